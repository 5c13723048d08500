"""Helpers of the billing tests: days in the registry's zone, fee schedules, billable events that
happened on a given day, and the billing consumer run as if later."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from billing.models import Fee, FeeSchedule, Invoice
from billing.services import CONSUMER, invoices_issue
from billing.values import Period
from events.models import Event
from events.services import event_record, events_consume


def at(year, month, day, hour=12) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, tzinfo=ZoneInfo(settings.TIME_ZONE))


def schedule(effective_from, **fees) -> FeeSchedule:
    """A schedule with fees given as kind=(unit price, free per year)."""
    made = FeeSchedule.objects.create(effective_from=effective_from)
    for kind, (price, free) in fees.items():
        Fee.objects.create(schedule=made, kind=kind, unit_price=Decimal(price), free_per_year=free)
    return made


def standard_schedules() -> list[FeeSchedule]:
    """From 2090, far enough that no test issues anything then by the wall clock (the certificates
    the fixtures issue today are owed nothing): issuance $0.02 with 1,000 free a year, retirement
    $0.01; from February 2090 issuance $0.03."""
    return [schedule(datetime.date(2090, 1, 1), issuance=("0.02", 1000), retirement=("0.01", 0)),
            schedule(datetime.date(2090, 2, 1), issuance=("0.03", 1000), retirement=("0.01", 0))]


def issued(certificate, when) -> None:
    """A certificates.issued event of `certificate` (5,000 RECs) that happened `when`."""
    event_record(kind=Event.Kind.CERTIFICATES_ISSUED, organization_id=certificate.generator.organization_id,
                 data={"certificate_ids": [certificate.pk]}, occurred_at=when)


LATER = datetime.datetime(2099, 1, 1, tzinfo=datetime.UTC)


def consume() -> None:
    """Run the billing consumer as if in 2099: a claim is due from the moment its event happened."""
    events_consume(consumer=CONSUMER, now=LATER)


def january_invoice(issue, organization) -> Invoice:
    """`organization`'s invoice of January 2090 (5,000 RECs issued on the 5th, at the standard
    schedules), with February's issuance of them charged since: the current period's."""
    standard_schedules()
    certificate = issue(5000).certificate
    issued(certificate, at(2090, 1, 5))
    issued(certificate, at(2090, 2, 5))
    consume()
    invoices_issue(period=Period(datetime.date(2090, 1, 1), datetime.date(2090, 2, 1)), now=at(2090, 2, 1, hour=1))
    return Invoice.objects.get(organization=organization)
