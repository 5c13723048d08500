"""Billing's reads: the schedule in force on a day, an organization's invoices and charges."""

import datetime
from decimal import Decimal

from django.db.models import QuerySet, Sum

from certificates.periods import registry_zone
from registry.models import Organization

from .models import Charge, FeeSchedule, Invoice


def billing_today() -> datetime.date:
    """Today in the registry's zone: the one place billing reads the wall clock for a day (tests set it)."""
    return datetime.datetime.now(tz=registry_zone()).date()


def fee_schedule_in_force(day: datetime.date) -> FeeSchedule | None:
    return FeeSchedule.objects.in_force_on(day)


def invoices_of(organization: Organization) -> QuerySet[Invoice]:
    return Invoice.objects.filter(organization=organization).order_by("-period_start", "-number")


def charges_uninvoiced(organization: Organization) -> QuerySet[Charge]:
    """The charges of the current period so far (and any consumed late from an earlier one)."""
    return Charge.objects.filter(organization=organization, invoice__isnull=True).order_by("occurred_at", "id")


def invoice_lines(invoice: Invoice) -> QuerySet[Charge]:
    return invoice.charges.select_related("event").order_by("occurred_at", "id")


def lines_total(charges: QuerySet[Charge]) -> Decimal:
    return charges.aggregate(total=Sum("amount"))["total"] or Decimal(0)
