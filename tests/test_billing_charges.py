"""Billing's charges: the billing consumer turns each billable event into one charge for the
organization that owes it, at the fee schedule in force on the day it happened, with the year's free
certificates taken once; exactly once with two workers at once and after a worker fails halfway."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction

from billing.models import Charge, FreeUsage
from billing.services import CONSUMER, charges_from_events
from events import consumers as consumer_registry
from events.consumers import Consumer
from events.models import Claim, Event
from events.services import events_consume
from transfers.values import TransferLine

from .billing import LATER, at, consume, issued
from .conftest import retire
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_issuance_is_charged_at_the_schedule_in_force_with_the_years_free_certificates(
        schedules, certificate, org):
    issued(certificate, at(2090, 1, 10))
    consume()
    (charge,) = Charge.objects.all()
    assert (charge.organization, charge.kind, charge.quantity, charge.free_quantity) == (org, "issuance", 5000, 1000)
    assert charge.amount == Decimal("80.00")
    assert charge.description == "5,000 RECs × $0.02, first 1,000 of 2090 free"
    assert charge.schedule == schedules[0]


def test_the_certificates_issued_before_any_schedule_are_owed_nothing(schedules, certificate):
    consume()  # certificate's own event, today
    assert not Charge.objects.exists() and not Claim.objects.exists()


def test_the_free_threshold_is_crossed_once_a_year(schedules, certificate):
    for day in (5, 6, 7):
        issued(certificate, at(2090, 3, day))
    issued(certificate, at(2091, 1, 3))
    consume()
    charges = list(Charge.objects.order_by("occurred_at"))
    assert [charge.free_quantity for charge in charges] == [1000, 0, 0, 1000]
    assert [charge.amount for charge in charges] == [Decimal("120.00"), Decimal("150.00"), Decimal("150.00"),
                                                     Decimal("120.00")]
    assert charges[1].description == "5,000 RECs × $0.03"
    assert FreeUsage.objects.get(year=2090).used == 15000


def test_an_event_recorded_late_is_charged_at_the_schedule_of_the_day_it_happened(schedules, certificate):
    """Events committed out of order across a schedule's (and a period's) boundary: February's first,
    then one that happened in January. Each is priced by its own day."""
    issued(certificate, at(2090, 2, 1, hour=0))
    consume()
    issued(certificate, at(2090, 1, 31, hour=23))
    consume()
    prices = {charge.occurred_at.astimezone(ZoneInfo(settings.TIME_ZONE)).month: charge.unit_price
              for charge in Charge.objects.all()}
    assert prices == {1: Decimal("0.02"), 2: Decimal("0.03")}
    # The year's 1,000 free went to the line consumed first; the year still has exactly 1,000 free.
    assert sum(charge.free_quantity for charge in Charge.objects.all()) == 1000


def test_a_retirement_is_charged_to_the_retiring_organization(schedules, issue, org, trader, retirement_account,
                                                               no_wakeups, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(2090, 4, 2))
    batch = issue(300)
    retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 120)], account=retirement_account)
    consume()
    charges = {charge.kind: charge for charge in Charge.objects.all()}
    assert charges["retirement"].quantity == 120 and charges["retirement"].amount == Decimal("1.20")
    assert charges["retirement"].organization == org
    assert charges["issuance"].quantity == 300 and charges["issuance"].amount == Decimal("0.00")


def test_an_event_is_never_charged_twice(schedules, certificate):
    issued(certificate, at(2090, 1, 10))
    consume()
    event = Event.objects.get(kind=Event.Kind.CERTIFICATES_ISSUED, occurred_at=at(2090, 1, 10))
    with pytest.raises(IntegrityError), transaction.atomic():
        charges_from_events([event])
    assert Charge.objects.count() == 1


def test_two_workers_at_once_charge_each_event_once(schedules, certificate, settings):
    settings.EVENTS_CLAIM_BATCH = 7  # many small batches, so the two workers interleave
    for day in range(1, 29):
        for hour in (9, 15):
            issued(certificate, at(2090, 3, day, hour))
    at_once(consume)
    consume()  # anything a lost race left due
    charges = Charge.objects.filter(year=2090)
    assert charges.count() == 56
    assert sum(charge.free_quantity for charge in charges) == 1000
    assert sum(charge.amount for charge in charges) == Decimal("0.03") * (56 * 5000 - 1000)
    assert FreeUsage.objects.get(year=2090).used == 56 * 5000
    assert not Claim.objects.filter(consumer=CONSUMER).exists()


def test_a_worker_that_fails_halfway_leaves_nothing_and_the_next_charges_each_event_once(
        schedules, certificate, monkeypatch):
    for day in range(1, 11):
        issued(certificate, at(2090, 3, day))

    def charge_then_die(events):
        charges_from_events(events)  # the charges and the year's usage are written ...
        raise RuntimeError("worker killed")  # ... and the transaction dies before it commits

    real = consumer_registry.consumer_get(CONSUMER)
    monkeypatch.setitem(consumer_registry._consumers, CONSUMER, Consumer(
        name=CONSUMER, kinds=real.kinds, in_transaction=True, handle=lambda event: charge_then_die([event]),
        handle_many=charge_then_die))
    consume()
    assert not Charge.objects.exists() and not FreeUsage.objects.exists()
    assert Claim.objects.filter(consumer=CONSUMER, attempts=1).count() == 11  # and the certificate's own event

    monkeypatch.setitem(consumer_registry._consumers, CONSUMER, real)
    events_consume(consumer=CONSUMER, now=LATER + datetime.timedelta(days=1))  # past the claims' backoff
    assert Charge.objects.count() == 10
    assert sorted(charge.free_quantity for charge in Charge.objects.all()) == [0] * 9 + [1000]
    assert not Claim.objects.filter(consumer=CONSUMER).exists()
