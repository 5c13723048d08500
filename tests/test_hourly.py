"""Granular (hourly, EnergyTag) certificates: interval periods, interval data uploaded per generator,
a certificate per interval in Wh issued by the one issuance run, expiry, and the hourly batches'
transfers and retirements as any batch's (issue 33, items 1 to 3)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from certificates.models import Certificate, CertificateBatch
from certificates.periods import ProductionPeriod, interval_refusal
from certificates.services import certificates_expire
from issuance.intervals import capacity_wh, wh_as_mwh
from issuance.models import GenerationReport, GenerationUpload, IntervalReading
from issuance.services import issuance_run
from ledger.models import LedgerEvent
from ledger.verification import ledger_breaches
from transfers.services import Destination, TransferLine, transfer_create

from .conftest import retire
from .factories import GeneratorFactory

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
HEADER = "Generator ID,Interval start,Interval end,Wh\r\n"


def hours_of(day: datetime.date, zone=CHICAGO) -> list[ProductionPeriod]:
    """The elapsed hours of a local day (23 on the spring change, 25 on the autumn one)."""
    start = datetime.datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + datetime.timedelta(days=1)
    end = datetime.datetime(following.year, following.month, following.day, tzinfo=zone)
    return ProductionPeriod(start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)).hours


def rows(generator, periods, wh=lambda index: 1_000_000 + index) -> str:
    return HEADER + "".join(f"{generator.code},{period.start.astimezone(CHICAGO).isoformat()},"
                            f"{period.end.astimezone(CHICAGO).isoformat()},{wh(index)}\r\n"
                            for index, period in enumerate(periods))


@pytest.fixture
def granular(org, account):
    return GeneratorFactory(organization=org, code="H100", granular=True, capacity_mw=Decimal("50"), account=account,
                            emissions_factor=Decimal("11.5"), emissions_factor_source="IPCC 2014 lifecycle median")


@pytest.fixture
def refused(upload_run):
    """The upload fails with `message` on `row` and column letter `column`, and nothing is recorded."""
    def _refused(content, message, row, column):
        before = (list(IntervalReading.objects.values_list("pk", "wh")),
                  list(GenerationReport.objects.values_list("pk", "status")))
        upload = upload_run(content)
        assert upload.status == GenerationUpload.Status.FAILED, upload.errors
        matching = [error for error in upload.errors if message in error["message"]]
        assert matching, upload.errors
        assert (matching[0]["row"], matching[0]["column"][:1]) == (row, column)
        assert (list(IntervalReading.objects.values_list("pk", "wh")),
                list(GenerationReport.objects.values_list("pk", "status"))) == before
        return upload
    return _refused


# The production period.

def test_an_interval_is_at_most_an_hour_and_at_least_the_registrys_shortest(settings):
    start = datetime.datetime(2026, 1, 5, 10, tzinfo=CHICAGO)
    assert interval_refusal(start, start + datetime.timedelta(hours=1)) is None
    assert interval_refusal(start, start + datetime.timedelta(minutes=61)) == (
        "The interval lasts 61 minutes; an interval lasts one hour.")
    quarter = start + datetime.timedelta(minutes=15)
    assert interval_refusal(start, quarter) == "The interval lasts 15 minutes; an interval lasts one hour."
    settings.GRANULAR_INTERVAL_MINUTES = 15
    assert interval_refusal(start, quarter) is None
    assert interval_refusal(start, start + datetime.timedelta(minutes=20)) == (
        "The interval lasts 20 minutes; an interval lasts at most one hour, in steps of 15 minutes.")
    assert "offset" in interval_refusal(start.replace(tzinfo=None), start.replace(tzinfo=None)
                                        + datetime.timedelta(hours=1))
    end_of_january = datetime.datetime(2026, 1, 31, 23, 30, tzinfo=CHICAGO)
    assert "next month" in interval_refusal(end_of_january, end_of_january + datetime.timedelta(hours=1))


def test_an_interval_reads_the_same_everywhere_and_names_its_utc_start_in_the_serial_base():
    period = ProductionPeriod.interval(datetime.datetime(2026, 1, 5, 10, tzinfo=CHICAGO),
                                       datetime.datetime(2026, 1, 5, 11, tzinfo=CHICAGO))
    assert str(period) == "01/05/2026 10:00–11:00 CST"
    assert period.api_text == period.data_text == "2026-01-05T10:00:00-06:00/2026-01-05T11:00:00-06:00"
    assert not period.is_month
    assert period.serial_text == "20260105T1600Z"
    assert ProductionPeriod.parse(period.data_text) == period


def test_an_interval_expires_two_years_after_its_end_by_default(settings):
    period = ProductionPeriod.interval(datetime.datetime(2024, 2, 29, 10, tzinfo=CHICAGO),
                                       datetime.datetime(2024, 2, 29, 11, tzinfo=CHICAGO))
    assert period.expiry() == datetime.datetime(2026, 2, 28, 11, tzinfo=CHICAGO)
    settings.CERTIFICATE_EXPIRY_YEARS = 3
    assert period.expiry() == datetime.datetime(2027, 2, 28, 11, tzinfo=CHICAGO)


@pytest.mark.parametrize(("day", "hours"), [(datetime.date(2026, 3, 8), 23), (datetime.date(2026, 11, 1), 25),
                                            (datetime.date(2026, 6, 1), 24)])
def test_a_local_day_has_the_hours_its_daylight_saving_change_gives_it(day, hours):
    assert len(hours_of(day)) == hours
    local = ProductionPeriod(datetime.datetime(day.year, day.month, day.day, tzinfo=CHICAGO),
                             datetime.datetime(day.year, day.month, day.day + 1, tzinfo=CHICAGO))
    assert local.duration == datetime.timedelta(hours=hours)  # elapsed, not the wall clock's 24
    assert local.hours == hours_of(day)


def test_an_hour_given_in_the_registrys_zone_across_the_autumn_change_is_elapsed_time():
    one_am = datetime.datetime(2026, 11, 1, 1, tzinfo=CHICAGO)  # the first 01:00 (CDT, fold 0)
    two_am = datetime.datetime(2026, 11, 1, 2, tzinfo=CHICAGO)  # two elapsed hours later
    assert "lasts 2 hours" in interval_refusal(one_am, two_am)
    with pytest.raises(ValueError):
        ProductionPeriod.interval(one_am, two_am)


@given(st.integers(min_value=1, max_value=12), st.integers(min_value=2000, max_value=2050))
def test_a_months_hours_tile_it(month, year):
    period = ProductionPeriod.month(year, month)
    hours = period.hours
    assert hours[0].start == period.start and hours[-1].end == period.end
    assert all(a.end == b.start for a, b in zip(hours, hours[1:], strict=False))
    assert all(period.contains(hour) for hour in hours)


# The Wh arithmetic.

@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999999.99"), places=2),
       st.sampled_from([15, 30, 45, 60]))
def test_capacity_times_the_interval_is_exact_to_the_wh(capacity, minutes):
    generator = GeneratorFactory.build(capacity_mw=capacity)
    start = datetime.datetime(2026, 1, 5, tzinfo=datetime.UTC)
    period = ProductionPeriod(start, start + datetime.timedelta(minutes=minutes))
    most = capacity_wh(generator, period)
    assert most == int(capacity * 1_000_000 * minutes // 60)  # MW x h = MWh; x 10^6 = Wh, floored
    assert Decimal(most) <= capacity * 1_000_000 * Decimal(minutes) / 60 < most + 1


@given(st.integers(min_value=0, max_value=10**15))
def test_a_months_mwh_is_its_wh_to_the_kwh_never_more(wh):
    mwh = wh_as_mwh(wh)
    assert mwh * 1_000_000 <= wh < mwh * 1_000_000 + 1000
    assert mwh == mwh.quantize(Decimal("0.001"))


# Registering a granular generator.

def test_a_manager_registers_a_granular_generator_with_its_emissions_factor(client, manager, org, account):
    from .conftest import signed_in_as

    page = signed_in_as(manager).post("/generators/new/", {
        "name": "Lakeside Solar", "fuel_type": "solar", "technology": "solar_pv", "capacity_mw": "20",
        "state": "MN", "commissioned_on": "2020-01-01", "eligibilities": "", "account": account.pk,
        "granular": "on", "emissions_factor": "41", "emissions_factor_source": "IPCC 2014 lifecycle median"})
    assert page.status_code == 302, page.content.decode()[:2000]
    generator = org.generators.get(name="Lakeside Solar")
    assert generator.granular and generator.emissions_factor == 41
    assert generator.emissions_factor_source == "IPCC 2014 lifecycle median"


def test_an_emissions_factor_needs_its_source(client, manager, org):
    from .conftest import signed_in_as

    page = signed_in_as(manager).post("/generators/new/", {
        "name": "Lakeside Solar", "fuel_type": "solar", "technology": "solar_pv", "capacity_mw": "20",
        "state": "MN", "granular": "on", "emissions_factor": "41"})
    assert page.status_code == 200
    assert "Say where the emissions factor comes from" in page.content.decode()
    assert not org.generators.filter(name="Lakeside Solar").exists()


# Interval data.

def test_a_day_of_hours_is_recorded_with_its_months_total(upload_run, granular, trader):
    day = hours_of(datetime.date(2026, 6, 1))
    upload = upload_run(rows(granular, day))
    assert upload.status == GenerationUpload.Status.COMPLETED, upload.errors
    readings = list(IntervalReading.objects.filter(generator=granular).order_by("period"))
    assert [reading.period for reading in readings] == day
    assert [reading.wh for reading in readings] == [1_000_000 + index for index in range(24)]
    report = GenerationReport.objects.live().get(generator=granular)
    assert report.month == datetime.date(2026, 6, 1)
    assert report.mwh == Decimal("24.000")  # 24,000,276 Wh, to the kWh


def test_a_second_day_replaces_the_months_report_with_the_new_total(upload_run, granular):
    assert upload_run(rows(granular, hours_of(datetime.date(2026, 6, 1)))).status == "completed"
    assert upload_run(rows(granular, hours_of(datetime.date(2026, 6, 2)), wh=lambda _: 500_000)).status == "completed"
    live = GenerationReport.objects.live().get(generator=granular)
    assert live.mwh == Decimal("36.000")
    assert GenerationReport.objects.filter(generator=granular, status="replaced").count() == 1


@pytest.mark.parametrize(("day", "hours"), [(datetime.date(2026, 3, 8), 23), (datetime.date(2026, 11, 1), 25)])
def test_daylight_saving_days_are_reported_hour_by_hour(upload_run, granular, day, hours):
    upload = upload_run(rows(granular, hours_of(day)))
    assert upload.status == GenerationUpload.Status.COMPLETED, upload.errors
    assert IntervalReading.objects.filter(generator=granular).count() == hours
    if hours == 25:  # 01:00 twice: once at -05:00, then at -06:00
        starts = [reading.period.start.astimezone(CHICAGO).isoformat() for reading in IntervalReading.objects.all()]
        assert "2026-11-01T01:00:00-05:00" in starts and "2026-11-01T01:00:00-06:00" in starts


def test_overlapping_intervals_in_the_file_are_refused_with_the_row(refused, granular):
    start = datetime.datetime(2026, 6, 1, 10, tzinfo=CHICAGO)
    content = (HEADER + f"H100,{start.isoformat()},{(start + datetime.timedelta(hours=1)).isoformat()},10\r\n"
               f"H100,{(start + datetime.timedelta(minutes=30)).isoformat()},"
               f"{(start + datetime.timedelta(minutes=90)).isoformat()},10\r\n")
    refused(content, "overlaps row 2's of H100", 3, "B")


def test_an_interval_reported_before_is_refused(upload_run, refused, granular):
    day = hours_of(datetime.date(2026, 6, 1))
    assert upload_run(rows(granular, day[:3])).status == "completed"
    refused(rows(granular, day[2:4]), "has generation reported already", 2, "B")


def test_an_interval_longer_than_an_hour_is_refused(refused, granular):
    refused(HEADER + "H100,2026-06-01T10:00:00-05:00,2026-06-01T11:30:00-05:00,10\r\n",
            "lasts 90 minutes; an interval lasts one hour", 2, "C")


def test_an_interval_without_an_offset_is_refused(refused, granular):
    refused(HEADER + "H100,2026-06-01T10:00:00,2026-06-01T11:00:00-05:00,10\r\n", "offset from UTC", 2, "B")


def test_more_than_capacity_times_the_interval_is_refused(upload_run, refused, granular):
    hour = "H100,2026-06-01T10:00:00-05:00,2026-06-01T11:00:00-05:00"
    refused(HEADER + f"{hour},50000001\r\n", "at most 50,000,000 Wh", 2, "D")
    assert upload_run(HEADER + f"{hour},50000000\r\n").status == "completed"  # 50 MW for an hour, exactly


def test_an_interval_not_over_yet_is_refused(refused, granular):
    from django.utils import timezone

    start = (timezone.now() + datetime.timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    refused(HEADER + f"H100,{start.isoformat()},{(start + datetime.timedelta(hours=1)).isoformat()},10\r\n",
            "not over yet", 2, "C")


def test_a_monthly_generator_reports_no_intervals_and_a_granular_one_no_month(refused, generator, granular):
    refused(HEADER + "M805,2026-06-01T10:00:00-05:00,2026-06-01T11:00:00-05:00,10\r\n",
            "not a granular generator", 2, "A")
    refused("Generator ID,Month,MWh\r\nH100,05/2026,10\r\n", "is a granular generator", 2, "A")


# Issuance.

@pytest.fixture
def issued_day(upload_run, granular, staff):
    """A day of June 2020 uploaded (hour 5 with 0 Wh) and its month issued by the issuance run."""
    day = hours_of(datetime.date(2020, 6, 1))
    upload = upload_run(rows(granular, day, wh=lambda index: 0 if index == 5 else 1_000_000 * index + 7))
    assert upload.status == "completed", upload.errors
    run = issuance_run(user=staff, reports=GenerationReport.objects.live().filter(generator=granular))
    assert not run.skipped, run.skipped
    return run


def test_a_granular_month_is_issued_one_certificate_per_interval_in_wh(issued_day, granular, account):
    certificates = list(Certificate.objects.filter(generator=granular).order_by("period"))
    assert issued_day.intervals == len(certificates) == 23  # the hour of 0 Wh issues none
    assert issued_day.certificates == 23
    readings = {reading.period: reading
                for reading in IntervalReading.objects.filter(generator=granular).with_outcome()}
    for certificate in certificates:
        reading = readings[certificate.period]
        assert reading.certificate_serial == certificate.serial_base and reading.status == "issued"
        assert certificate.quantity == reading.wh
        assert certificate.serial_base.startswith(f"H100-MN-{certificate.period.serial_text}-")
        assert certificate.expires_at == certificate.period.expiry()
        assert (certificate.emissions_factor, certificate.emissions_factor_source) == (
            Decimal("11.5"), "IPCC 2014 lifecycle median")
        batch = certificate.batches.get()
        assert (batch.serial_start, batch.serial_end, batch.account, batch.status) == (
            1, reading.wh, account, "active")
    assert readings[hours_of(datetime.date(2020, 6, 1))[5]].status == "issued"
    assert sum(certificate.quantity for certificate in certificates) == issued_day.wh
    assert GenerationReport.objects.live().get(generator=granular).status == "issued"
    assert ledger_breaches() == []


def test_an_issued_month_is_not_issued_again_and_takes_no_late_intervals(issued_day, granular, staff, refused):
    again = issuance_run(user=staff, reports=GenerationReport.objects.filter(generator=granular))
    assert again.intervals == 0 and again.skipped
    refused(rows(granular, hours_of(datetime.date(2020, 6, 2))), "was issued meanwhile", 0, "")


@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=0, max_value=50_000_000), min_size=1, max_size=24))
def test_the_certificates_issued_are_the_wh_reported_exactly(staff, org, account, wh_by_hour):
    """Each example a generator of its own, in the test's one transaction."""
    generator = GeneratorFactory(organization=org, granular=True, capacity_mw=50, account=account)
    for period, wh in zip(hours_of(datetime.date(2020, 7, 3)), wh_by_hour, strict=False):
        IntervalReading.objects.create(generator=generator, period=period, wh=wh, submitted_by=staff)
    GenerationReport.objects.create(generator=generator, month=datetime.date(2020, 7, 1),
                                    mwh=wh_as_mwh(sum(wh_by_hour)), submitted_by=staff)
    run = issuance_run(user=staff, reports=GenerationReport.objects.filter(generator=generator))
    certificates = Certificate.objects.filter(generator=generator)
    assert run.wh == sum(wh_by_hour) == sum(certificates.values_list("quantity", flat=True))
    assert run.intervals == certificates.count() == sum(1 for wh in wh_by_hour if wh)
    assert sorted(certificates.values_list("quantity", flat=True)) == sorted(wh for wh in wh_by_hour if wh)


def test_the_issuance_runs_interval_certificates_are_those_certificates_write_would_make(staff, org, account):
    """intervals_write (the run's, in columns) gives each interval what certificates_write gives it: the
    eligibilities that hold on the interval's day (one starting on June 2 and one ending June 1, in the
    registry's zone), its expiry two years after its end (February 29
    -> February 28), the serial base, the emissions factor, one active batch and its ledger event."""
    from certificates.models import GeneratorEligibility
    from certificates.services import IssueLine, certificates_write

    def generator(code):
        made = GeneratorFactory(organization=org, code=code, granular=True, capacity_mw=50, account=account,
                                emissions_factor=Decimal("41.000"), emissions_factor_source="IPCC 2014")
        GeneratorEligibility.objects.filter(generator=made).delete()  # the factory's
        GeneratorEligibility.objects.create(generator=made, name="MN RES", start_date=datetime.date(2020, 6, 2))
        GeneratorEligibility.objects.create(generator=made, name="WI RPS", start_date=datetime.date(2019, 1, 1),
                                            good_through=datetime.date(2020, 6, 1))
        return made

    by_run, by_hand = generator("H301"), generator("H302")
    hours = hours_of(datetime.date(2020, 6, 1))[-2:] + hours_of(datetime.date(2020, 6, 2))[:2]
    for period in hours:
        IntervalReading.objects.create(generator=by_run, period=period, wh=5_000, submitted_by=staff)
    GenerationReport.objects.create(generator=by_run, month=datetime.date(2020, 6, 1), mwh=Decimal("0.020"),
                                    submitted_by=staff)
    assert issuance_run(user=staff, reports=GenerationReport.objects.filter(generator=by_run)).intervals == 4
    certificates_write(user=staff, lines=[IssueLine(by_hand, period, 5_000, account) for period in hours])
    leap = ProductionPeriod(datetime.datetime(2020, 2, 29, 5, tzinfo=CHICAGO),
                            datetime.datetime(2020, 2, 29, 6, tzinfo=CHICAGO))
    IntervalReading.objects.create(generator=by_run, period=leap, wh=9, submitted_by=staff)
    GenerationReport.objects.create(generator=by_run, month=datetime.date(2020, 2, 1), mwh=Decimal("0"),
                                    submitted_by=staff)
    issuance_run(user=staff, reports=GenerationReport.objects.filter(generator=by_run, month__month=2))
    certificates_write(user=staff, lines=[IssueLine(by_hand, leap, 9, account)])

    def made(generator):
        return [(c.period, c.quantity, c.serial_base.split("-")[1:-1], c.eligibilities, c.expires_at, c.fuel_type,
                 c.state, c.emissions_factor, c.emissions_factor_source, c.issued_by, c.adjustment, c.voided_at,
                 [(b.account, b.serial_start, b.serial_end, b.status, b.parent) for b in c.batches.all()],
                 [(e.kind, e.actor, e.organization_id, e.account, e.before, e.after | {"batch": 0, "certificate": 0})
                  for e in LedgerEvent.objects.filter(certificate=c)])
                for c in Certificate.objects.filter(generator=generator).order_by("period")]

    assert made(by_run) == made(by_hand)
    assert [c.eligibilities for c in Certificate.objects.filter(generator=by_run).order_by("period")] == [
        ["WI RPS"], ["WI RPS"], ["WI RPS"], ["MN RES"], ["MN RES"]]  # February 29; June 1's last two hours; June 2
    assert Certificate.objects.get(generator=by_run, period=leap).expires_at == datetime.datetime(
        2022, 2, 28, 6, tzinfo=CHICAGO)
    assert ledger_breaches() == []


def test_verify_ledger_finds_a_readings_certificate_of_other_wh(staff, granular, account):
    from certificates.services import certificate_write
    hour = hours_of(datetime.date(2020, 6, 3))[10]
    certificate = certificate_write(user=staff, generator=granular, period=hour, quantity=500, account=account)
    assert ledger_breaches() == []
    IntervalReading.objects.create(generator=granular, period=hour, wh=600, submitted_by=staff)
    assert ledger_breaches() == [
        "an interval reading's certificate (its generator's, of its interval) is for its Wh: interval reading "
        f"{IntervalReading.objects.get().pk} (600 Wh) is issued as certificate {certificate.serial_base} of 500 Wh"]


# Expiry.

def test_beat_expires_certificates_past_their_expiry_each_with_a_ledger_event(issued_day, granular):
    held = CertificateBatch.objects.filter(certificate__generator=granular, status="active")
    count = held.count()
    assert certificates_expire() == count == 23  # June 2020's expired in June 2022
    assert not held.exists()
    expired = CertificateBatch.objects.filter(certificate__generator=granular, status="expired")
    assert expired.count() == 23
    events = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.BATCH_EXPIRED)
    assert sorted(events.values_list("batch_id", flat=True)) == sorted(expired.values_list("pk", flat=True))
    assert all(event.before["status"] == "active" and event.after["status"] == "expired" for event in events)
    assert certificates_expire() == 0  # once
    assert ledger_breaches() == []


def test_a_certificate_not_yet_expired_stays_active(upload_run, granular, staff):
    upload_run(rows(granular, hours_of(datetime.date(2026, 6, 1))[:2]))
    issuance_run(user=staff, reports=GenerationReport.objects.live().filter(generator=granular))
    assert certificates_expire() == 0
    assert CertificateBatch.objects.filter(certificate__generator=granular, status="active").count() == 2


def test_the_database_refuses_to_move_or_retire_an_expired_batch(issued_day, granular, retirement_account):
    certificates_expire()
    batch = CertificateBatch.objects.filter(certificate__generator=granular, status="expired").first()
    for change in ({"status": "retired", "account_id": retirement_account.pk}, {"status": "active"}):
        with pytest.raises(DatabaseError), transaction.atomic():
            CertificateBatch.objects.filter(pk=batch.pk).update(**change)
    batch.refresh_from_db()
    assert batch.status == "expired"


def test_the_services_refuse_to_transfer_an_expired_batch(issued_day, granular, org, trader, second_account):
    from registry.services import ServiceError

    certificates_expire()
    batch = CertificateBatch.objects.filter(certificate__generator=granular, status="expired").first()
    with pytest.raises(ServiceError):
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.internal(second_account))


# The life cycle of an hourly batch, as any batch's.

def test_an_hourly_batch_is_transferred_in_part_lowest_serials_first(issued_day, granular, org, trader,
                                                                     second_account):
    batch = CertificateBatch.objects.filter(certificate__generator=granular, status="active").order_by("pk").last()
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 250_000)],
                    destination=Destination.internal(second_account))
    moved = CertificateBatch.objects.get(certificate=batch.certificate, account=second_account)
    assert (moved.serial_start, moved.serial_end, moved.status) == (1, 250_000, "active")
    assert ledger_breaches() == []


def test_an_hourly_batch_is_retired_like_a_monthly_one(issued_day, granular, org, trader, retirement_account):
    batch = CertificateBatch.objects.filter(certificate__generator=granular, status="active").order_by("pk").last()
    retire(organization=org, user=trader, lines=[TransferLine(batch.pk, batch.quantity)], account=retirement_account)
    batch = CertificateBatch.objects.filter(certificate=batch.certificate).exclude(status="superseded").get()
    assert (batch.status, batch.account) == ("retired", retirement_account)
    assert ledger_breaches() == []


@pytest.fixture
def big_hour(issue, org, account):
    """An hour of a 3,500 MW plant: 3,500,000,000 Wh, past 2**31, in one batch."""
    plant = GeneratorFactory(organization=org, code="H200", granular=True, capacity_mw=Decimal(3500), account=account)
    hour = hours_of(datetime.date(2026, 6, 1))[12]
    return issue(3_500_000_000, period=hour, generator=plant)


def test_an_hourly_batch_past_2_to_the_31_moves_through_the_api(big_hour, api_as, manager, org, second_account):
    from api.models import ApiKey

    client = api_as(manager, org, ApiKey.Scope.RETIRE)
    answer = client.post("/api/v1/transfers/", {
        "lines": [{"batch": big_hour.pk, "quantity": 2_500_000_000}],
        "destination": {"type": "internal", "account": second_account.public_id}}, format="json",
        HTTP_IDEMPOTENCY_KEY="hour-1")
    assert answer.status_code == 201, answer.json()
    moved = CertificateBatch.objects.get(certificate=big_hour.certificate, account=second_account)
    assert (moved.serial_start, moved.serial_end) == (1, 2_500_000_000)
    listed = client.get(f"/api/v1/batches/{moved.pk}/").json()
    assert listed["quantity"] == 2_500_000_000 and listed["serial_end"] == 2_500_000_000
    assert listed["vintage"] == big_hour.certificate.period.api_text
    assert ledger_breaches() == []


def test_an_hourly_batch_moves_through_a_mass_transfer_file(big_hour, mass_run, second_account):
    upload = mass_run("Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
                      f"{big_hour.serial_number},3000000000,,{second_account.public_id},one hour\r\n")
    assert upload.status == "completed", upload.errors
    moved = CertificateBatch.objects.get(certificate=big_hour.certificate, account=second_account)
    assert moved.quantity == 3_000_000_000
    assert ledger_breaches() == []


def test_the_owners_generation_page_lists_an_issued_granular_month(issued_day, trader):
    from .conftest import signed_in_as

    page = signed_in_as(trader).get("/generation/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "H100" in text and "06/2020" in text and "a certificate per interval, in Wh" in text
    assert "/certificates/?generator=H100" in text
