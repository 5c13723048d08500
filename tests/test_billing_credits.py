"""Billing's credits: certificates already charged on their issuance that a rollback or staff's
voiding voids are credited by the billing consumer (a negative charge pointing at the voiding event
and at the charge it gives back), at the price that charged them, exactly once, and never more than
was paid (the year's free certificates give nothing back)."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from billing.models import Charge, Fee, FeeSchedule
from billing.services import CONSUMER, charges_from_events
from billing.values import ChargeKind
from certificates.services import batches_void
from events.models import Event
from events.services import events_consume
from issuance.corrections import issuance_rollback
from issuance.services import issuance_run

from .generation import last_month, report
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Meter M-17 read 10x high in this month."


def schedule_in_force(price="0.02", free=0, **fields) -> FeeSchedule:
    """A schedule in force today (the certificates the fixtures issue now are charged)."""
    schedule = FeeSchedule.objects.create(effective_from=datetime.date(2000, 1, 1), **fields)
    Fee.objects.create(schedule=schedule, kind="issuance", unit_price=Decimal(price), free_per_year=free)
    return schedule


def consume() -> int:
    return events_consume(consumer=CONSUMER)


@pytest.fixture
def rolled_out(generator, account, staff, trader, no_wakeups):
    """rolled_out(mwh) -> an Issuance of last month of `generator`, issued by an issuance run."""
    generator.account = account
    generator.save(update_fields=["account"])

    def _issued(mwh="1250.400"):
        run = issuance_run(user=staff, reports=[report(generator, last_month(1), mwh, trader)])
        return run.issued[0]
    return _issued


def credits() -> list[Charge]:
    return list(Charge.objects.filter(kind=ChargeKind.CREDIT).order_by("pk"))


def test_a_rollback_credits_its_issuance_at_the_schedule_that_charged_it(rolled_out, staff, org):
    schedule = schedule_in_force("0.02")
    issuance = rolled_out()
    consume()
    (charge,) = Charge.objects.filter(kind=ChargeKind.ISSUANCE)
    assert charge.amount == Decimal("25.00")  # 1,250 RECs
    Fee.objects.filter(schedule=schedule).update(unit_price=Decimal("0.05"))  # what it costs now is not the credit
    issuance_rollback(user=staff, issuance=issuance, reason=REASON)
    consume()
    (credit,) = credits()
    event = Event.objects.get(kind=Event.Kind.ISSUANCE_ROLLED_BACK)
    assert (credit.organization, credit.event, credit.credited, credit.schedule) == (org, event, charge, schedule)
    assert credit.quantity == 1250 and credit.unit_price == Decimal("0.02") and credit.amount == Decimal("-25.00")
    assert credit.description.startswith("Credit: 1,250 MWh voided × $0.02, charged on their issuance of ")
    assert credit.invoice is None  # on the next invoice
    consume()
    assert len(credits()) == 1


def test_certificates_that_were_free_give_nothing_back(rolled_out, staff):
    schedule_in_force("0.02", free=1000)
    issuance = rolled_out()  # 1,250: 1,000 free, 250 charged ($5.00)
    consume()
    issuance_rollback(user=staff, issuance=issuance, reason=REASON)
    consume()
    (credit,) = credits()
    assert (credit.quantity, credit.amount) == (250, Decimal("-5.00"))


def test_voided_batches_are_credited_never_more_than_was_paid(issue, staff, org, no_wakeups):
    schedule_in_force("0.02", free=1000)
    batch = issue(5000)  # 4,000 charged: $80.00
    consume()
    voided = batches_void(user=staff, organization=org, lines=[(batch.pk, 400)], reason=REASON)
    consume()
    rest = batch.__class__.objects.get(certificate_id=batch.certificate_id, status="active")
    batches_void(user=staff, organization=org, lines=[(rest.pk, rest.quantity)], reason=REASON)
    consume()
    first, second = credits()
    assert (first.quantity, first.amount) == (400, Decimal("-8.00")) and voided.quantity == 400
    assert (second.quantity, second.amount) == (3600, Decimal("-72.00"))  # 4,600 voided; 3,600 were left paid
    assert sum(charge.amount for charge in Charge.objects.all()) == 0


def test_a_voiding_event_is_never_credited_twice(issue, staff, org, no_wakeups):
    schedule_in_force("0.02")
    batch = issue(1000)
    consume()
    batches_void(user=staff, organization=org, lines=[(batch.pk, 1000)], reason=REASON)
    consume()
    event = Event.objects.get(kind=Event.Kind.CERTIFICATES_VOIDED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Charge.objects.bulk_create([Charge(**{**{f.attname: getattr(credits()[0], f.attname)
                                                for f in Charge._meta.concrete_fields}, "id": None})])
    with transaction.atomic():
        assert charges_from_events([event]) == 0  # and the handler run again credits nothing more
    assert len(credits()) == 1


def test_two_workers_at_once_credit_each_voiding_once(issue, staff, org, no_wakeups, settings):
    settings.EVENTS_CLAIM_BATCH = 1  # one event a batch, so that the two workers interleave
    schedule_in_force("0.02")
    batch = issue(2000)
    consume()
    for _ in range(10):
        batch = batches_void(user=staff, organization=org, lines=[(batch.pk, 100)], reason=REASON).batches[0]
        batch = batch.__class__.objects.get(certificate_id=batch.certificate_id, status="active")
    at_once(consume)
    consume()
    assert [credit.quantity for credit in credits()] == [100] * 10
    assert sum(credit.amount for credit in credits()) == Decimal("-20.00")
