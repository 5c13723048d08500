"""A generator's eligibilities as registry staff record them (GeneratorEligibility): with a certification
number, a start date and a good-through date. Certificates issued for a period carry those that hold on
every day of it, and only those; the issuance preview and the generator's pages mark the others; staff
are reminded before one ends."""

import datetime

import pytest

from certificates.generator_services import (
    EligibilityDetails,
    GeneratorRefused,
    eligibility_change,
    eligibility_end,
    eligibility_record,
)
from certificates.models import Certificate, GeneratorEligibility
from certificates.periods import ProductionPeriod
from issuance.services import issuance_run
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from registry.services import ServiceError

from .factories import GeneratorFactory
from .generation import report

MARCH = ProductionPeriod.month(2025, 3)
day = datetime.date
LONG_AGO = day(2020, 1, 1)


def recorded(generator, name="MN RES", start=LONG_AGO, through=None, **fields) -> GeneratorEligibility:
    return GeneratorEligibility.objects.create(generator=generator, name=name, start_date=start, good_through=through,
                                               **fields)


@pytest.fixture
def plain_generator(org, account):
    """A generator with nothing recorded yet, issuing into `account`."""
    return GeneratorFactory(organization=org, code="M870", eligibilities=["MN RES", "Green-e", "WI RPS"],
                            recorded=False, account=account)


# The rule: an eligibility is carried for a period when it holds on every day of it.

@pytest.mark.parametrize(("start", "through", "carried", "shown"), [
    (day(2020, 1, 1), None, True, None),  # no end
    (day(2025, 3, 1), day(2025, 3, 31), True, None),  # exactly the month
    (day(2025, 3, 2), None, False, "valid from 2025-03-02"),  # starts in the month
    (day(2025, 4, 1), None, False, "valid from 2025-04-01"),  # starts after it
    (day(2020, 1, 1), day(2025, 3, 30), False, "expired on 2025-03-30"),  # ends in the month
    (day(2020, 1, 1), day(2025, 2, 28), False, "expired on 2025-02-28"),  # ended before it
])
def test_an_eligibility_is_carried_only_for_a_period_it_holds_on_every_day_of(plain_generator, start, through,
                                                                               carried, shown):
    eligibility = recorded(plain_generator, start=start, through=through)

    assert eligibility.covers(MARCH) is carried
    assert (str(eligibility.gap_in(MARCH)) if eligibility.gap_in(MARCH) else None) == shown


def test_a_month_s_days_are_the_registry_s_days(plain_generator, settings):
    settings.TIME_ZONE = "America/Chicago"  # March ends at 05:00 UTC on April 1: still March 31 here
    eligibility = recorded(plain_generator, start=day(2020, 1, 1), through=day(2025, 3, 31))

    assert (MARCH.first_day, MARCH.last_day) == (day(2025, 3, 1), day(2025, 3, 31))
    assert eligibility.covers(ProductionPeriod.month(2025, 3))
    assert not eligibility.covers(ProductionPeriod.month(2025, 4))


# Issuance carries the recorded eligibilities valid for the period, and only those.

def test_issuance_carries_only_the_eligibilities_valid_for_its_month(staff, trader, plain_generator):
    recorded(plain_generator, "MN RES", start=day(2020, 1, 1))
    recorded(plain_generator, "Green-e", start=day(2020, 1, 1), through=day(2025, 3, 15))  # ends mid-March
    recorded(plain_generator, "WI RPS", start=day(2025, 3, 10))  # starts mid-March
    recorded(plain_generator, "IA AEP", start=day(2024, 1, 1), through=day(2025, 12, 31))  # not claimed: carried

    run = issuance_run(user=staff, reports=[report(plain_generator, day(2025, 2, 1), "10", trader),
                                            report(plain_generator, day(2025, 3, 1), "10", trader),
                                            report(plain_generator, day(2025, 4, 1), "10", trader)])

    assert run.skipped == []
    carried = {str(certificate.period): certificate.eligibilities
               for certificate in Certificate.objects.filter(generator=plain_generator)}
    assert carried == {"02/2025": ["MN RES", "Green-e", "IA AEP"], "03/2025": ["MN RES", "IA AEP"],
                       "04/2025": ["MN RES", "WI RPS", "IA AEP"]}
    assert ledger_breaches() == []


def test_a_claim_staff_have_not_recorded_is_not_carried(staff, trader, plain_generator):
    issuance_run(user=staff, reports=[report(plain_generator, day(2025, 3, 1), "10", trader)])

    assert Certificate.objects.get(generator=plain_generator).eligibilities == []


def test_a_renewal_after_an_end_is_carried_once(staff, trader, plain_generator):
    recorded(plain_generator, "MN RES", start=day(2020, 1, 1), through=day(2025, 2, 28), certification_number="A-1")
    recorded(plain_generator, "MN RES", start=day(2025, 3, 1), certification_number="A-2")

    issuance_run(user=staff, reports=[report(plain_generator, day(2025, 2, 1), "10", trader),
                                      report(plain_generator, day(2025, 3, 1), "10", trader)])

    assert [c.eligibilities for c in Certificate.objects.filter(generator=plain_generator)] == [["MN RES"],
                                                                                               ["MN RES"]]


# The services: staff only, each a ledger event; refusals in plain words that change nothing.

DETAILS = EligibilityDetails(name="  MN   RES ", start_date=day(2024, 1, 1), certification_number="E-999/2023",
                             verified_on=day(2024, 2, 1), good_through=day(2026, 12, 31))


def test_staff_record_change_and_end_an_eligibility_each_a_ledger_event(staff, plain_generator):
    eligibility = eligibility_record(user=staff, generator=plain_generator, details=DETAILS)
    assert (eligibility.name, eligibility.certification_number, eligibility.recorded_by) == (
        "MN RES", "E-999/2023", staff)

    eligibility_change(user=staff, eligibility=eligibility,
                       details=EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1),
                                                  certification_number="E-1000/2024", verified_on=day(2024, 2, 1),
                                                  good_through=day(2027, 6, 30)))
    eligibility_end(user=staff, eligibility=eligibility, last_day=day(2025, 6, 30), note="Order revoked")

    eligibility.refresh_from_db()
    assert (eligibility.certification_number, eligibility.good_through) == ("E-1000/2024", day(2025, 6, 30))
    events = list(LedgerEvent.objects.filter(kind__startswith="eligibility_").order_by("pk"))
    assert [(e.kind, e.actor, e.organization_id) for e in events] == [
        (LedgerEvent.Kind.ELIGIBILITY_RECORDED, staff, plain_generator.organization_id),
        (LedgerEvent.Kind.ELIGIBILITY_CHANGED, staff, plain_generator.organization_id),
        (LedgerEvent.Kind.ELIGIBILITY_ENDED, staff, plain_generator.organization_id)]
    assert (events[0].after["certification_number"], events[0].after["generator"]) == ("E-999/2023",
                                                                                       plain_generator.pk)
    assert (events[1].before, events[1].after) == (
        {"generator": plain_generator.pk, "code": "M870", "eligibility": eligibility.pk, "name": "MN RES",
         "certification_number": "E-999/2023", "good_through": "2026-12-31"},
        {"generator": plain_generator.pk, "code": "M870", "eligibility": eligibility.pk, "name": "MN RES",
         "certification_number": "E-1000/2024", "good_through": "2027-06-30"})
    assert (events[2].before["good_through"], events[2].after["good_through"], events[2].note) == (
        "2027-06-30", "2025-06-30", "Order revoked")


def test_only_staff_record_change_or_end_eligibilities(manager, plain_generator, staff):
    with pytest.raises(ServiceError, match="registry staff"):
        eligibility_record(user=manager, generator=plain_generator, details=DETAILS)
    eligibility = recorded(plain_generator)
    with pytest.raises(ServiceError, match="registry staff"):
        eligibility_change(user=manager, eligibility=eligibility, details=DETAILS)
    with pytest.raises(ServiceError, match="registry staff"):
        eligibility_end(user=manager, eligibility=eligibility, last_day=day(2025, 1, 1))
    assert GeneratorEligibility.objects.get() == eligibility and eligibility.good_through is None
    assert not LedgerEvent.objects.filter(kind__startswith="eligibility_").exists()


@pytest.mark.parametrize(("details", "field", "message"), [
    (EligibilityDetails(name=" ", start_date=day(2024, 1, 1)), "name", "Give the eligibility"),
    (EligibilityDetails(name="x" * 33, start_date=day(2024, 1, 1)), "name", "at most 32 characters"),
    (EligibilityDetails(name="MN RES", start_date=None), "start_date", "Give the start date"),
    (EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1), good_through=day(2023, 12, 31)), "good_through",
     "cannot be before the start date, 2024-01-01"),
    (EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1), verified_on=day(2999, 1, 1)), "verified_on",
     "cannot be in the future"),
    (EligibilityDetails(name="MN RES", start_date=day(2024, 1, 1), certification_number="9" * 65),
     "certification_number", "at most 64 characters"),
    (EligibilityDetails(name="MN RES", start_date=day(2025, 6, 1)), "start_date",
     "M870 already has MN RES from 2020-01-01 through 2025-06-30. Change or end that record"),
])
def test_wrong_details_are_refused_by_field_and_change_nothing(staff, plain_generator, details, field, message):
    recorded(plain_generator, "MN RES", start=day(2020, 1, 1), through=day(2025, 6, 30))

    with pytest.raises(GeneratorRefused, match=message) as refused:
        eligibility_record(user=staff, generator=plain_generator, details=details)

    assert refused.value.field == field
    assert GeneratorEligibility.objects.count() == 1
    assert not LedgerEvent.objects.filter(kind__startswith="eligibility_").exists()


def test_ending_never_extends_nor_ends_before_the_start(staff, plain_generator):
    eligibility = recorded(plain_generator, start=day(2024, 1, 1), through=day(2025, 6, 30))

    with pytest.raises(GeneratorRefused, match="ends already, after 2025-06-30"):
        eligibility_end(user=staff, eligibility=eligibility, last_day=day(2025, 7, 31))
    with pytest.raises(GeneratorRefused, match="starts on 2024-01-01: it cannot end before that"):
        eligibility_end(user=staff, eligibility=eligibility, last_day=day(2023, 12, 31))
    eligibility.refresh_from_db()
    assert eligibility.good_through == day(2025, 6, 30)
