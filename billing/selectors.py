"""Billing's reads: the schedule in force on a day, an organization's invoices and charges."""

import datetime
from decimal import Decimal

from django.db.models import F, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from certificates.periods import registry_zone
from registry.models import Membership, Organization

from .models import Charge, CreditNote, FeeSchedule, Invoice, Payment


def billing_today() -> datetime.date:
    """Today in the registry's zone: the one place billing reads the wall clock for a day (a test sets
    it: monkeypatch `billing.selectors.billing_today`; callers look it up on the module)."""
    return datetime.datetime.now(tz=registry_zone()).date()


def billing_reader_refusal(*, organization: Organization, user) -> str:
    """Why `user` may not read `organization`'s invoices and charges ("": they may): only a manager or
    its billing contact (any member) may, on the Billing tab and through the API."""
    if organization.billing_contact_id == user.pk or \
            organization.memberships.filter(user=user, role=Membership.Role.MANAGER).exists():
        return ""
    return f"Only a manager or the billing contact of {organization.name} may see its invoices."


def fee_schedule_in_force(day: datetime.date) -> FeeSchedule | None:
    return FeeSchedule.objects.in_force_on(day)


def invoices_of(organization: Organization) -> QuerySet[Invoice]:
    return Invoice.objects.filter(organization=organization).order_by("-period_start", "-number")


def charges_uninvoiced(organization: Organization) -> QuerySet[Charge]:
    """The charges of the current period so far (and any consumed late from an earlier one)."""
    return Charge.objects.filter(organization=organization, invoice__isnull=True).order_by("occurred_at", "id")


def charges_of(organization: Organization) -> QuerySet[Charge]:
    """Every charge of the organization, invoiced or not, oldest first (the API's list)."""
    return Charge.objects.filter(organization=organization).select_related("invoice").order_by("pk")


def invoice_lines(invoice: Invoice) -> QuerySet[Charge]:
    return invoice.charges.select_related("event").order_by("occurred_at", "id")


def lines_total(charges: QuerySet[Charge]) -> Decimal:
    return charges.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def invoice_balance(invoice: Invoice) -> Decimal:
    """What is still owed on `invoice`: its total less its payments and credit notes."""
    paid = invoice.payments.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    credited = invoice.credit_notes.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return invoice.total - paid - credited


INVOICE_STATUSES = [("paid", "Nothing left to pay"), ("due", "Left to pay, not yet due"),
                    ("overdue", "Left to pay after its due date")]


def invoice_status(invoice: Invoice, today: datetime.date) -> str:
    """paid, due or overdue (INVOICE_STATUSES), from the invoice's annotated `balance` (invoices_with_balance):
    what the Billing tab and the API say of it."""
    if invoice.balance <= 0:
        return "paid"
    return "overdue" if invoice.due_on < today else "due"


def invoices_with_balance() -> QuerySet[Invoice]:
    """Every invoice annotated with `balance` (total less payments and credit notes), one query."""
    paid = Subquery(Payment.objects.filter(invoice=OuterRef("pk")).values("invoice")
                    .annotate(total=Sum("amount")).values("total"))
    credited = Subquery(CreditNote.objects.filter(invoice=OuterRef("pk")).values("invoice")
                        .annotate(total=Sum("amount")).values("total"))
    return Invoice.objects.annotate(balance=F("total") - Coalesce(paid, Decimal(0)) - Coalesce(credited, Decimal(0)))


AGE_BUCKETS = [("Not yet due", None, 0), ("1–30 days", 1, 30), ("31–60 days", 31, 60), ("61–90 days", 61, 90),
               ("Over 90 days", 91, None)]


def receivables_by_age(today: datetime.date) -> list[dict]:
    """Each organization that owes money, with what it owes by days past due (AGE_BUCKETS), and the total."""
    rows: dict[int, dict] = {}
    for invoice in invoices_with_balance().filter(balance__gt=0).select_related("organization"):
        row = rows.setdefault(invoice.organization_id, {"organization": invoice.organization,
                                                        "buckets": [Decimal(0)] * len(AGE_BUCKETS),
                                                        "total": Decimal(0)})
        late = (today - invoice.due_on).days
        index = next(index for index, (_, low, high) in enumerate(AGE_BUCKETS)
                     if (low is None or late >= low) and (high is None or late <= high))
        row["buckets"][index] += invoice.balance
        row["total"] += invoice.balance
    return sorted(rows.values(), key=lambda row: (-row["total"], row["organization"].name))
