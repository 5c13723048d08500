"""The production period: a certificate's month (or, later, its hour) through one value type."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from certificates.filters import MonthField
from certificates.models import Certificate, CertificateBatch
from certificates.periods import YEARS, ProductionPeriod, period_shown
from certificates.services import certificate_issue
from registry.services import ServiceError

from .factories import GeneratorFactory
from .test_period_wording import page_text

CHICAGO = datetime.timezone(datetime.timedelta(hours=-6))  # the registry's zone in winter (settings.TIME_ZONE)
UTC = datetime.UTC
REGISTRY_ZONE = zoneinfo.ZoneInfo("America/Chicago")  # settings.TIME_ZONE, with its daylight-saving changes
DASHBOARD = reverse("dashboard:certificates")
months = st.builds(ProductionPeriod.month, st.integers(YEARS.start, YEARS.stop - 1), st.integers(1, 12))
# An hour or less, on a minute, in any offset: an hourly (EnergyTag) certificate's period.
intervals = st.builds(
    lambda start, minutes, offset: ProductionPeriod.interval(
        start.replace(tzinfo=offset), start.replace(tzinfo=offset) + datetime.timedelta(minutes=minutes)),
    st.datetimes(min_value=datetime.datetime(1950, 1, 1), max_value=datetime.datetime(2090, 1, 1)).map(
        lambda moment: moment.replace(second=0, microsecond=0)),
    st.integers(1, 60),
    st.sampled_from([UTC, CHICAGO, datetime.timezone(datetime.timedelta(hours=5, minutes=30))]),
)


def test_a_month_reads_as_it_always_has():
    january = ProductionPeriod.month(2020, 1)
    assert (str(january), january.api_text, january.serial_text) == ("01/2020", "2020-01", "01-2020")
    assert (january.is_month, january.year, january.first_day) == (True, 2020, datetime.date(2020, 1, 1))


def _local_interval(day: datetime.date, start: tuple[int, int], minutes: int, *, fold: int = 0) -> ProductionPeriod:
    """The interval of `minutes` elapsed from the wall-clock `start` of `day` in America/Chicago (the
    registry's zone in the tests); fold=1 for the second of a fall-back night's repeated hour."""
    local = datetime.datetime.combine(day, datetime.time(*start), tzinfo=REGISTRY_ZONE).replace(fold=fold)
    begin = local.astimezone(UTC)
    return ProductionPeriod.interval(begin, begin + datetime.timedelta(minutes=minutes))


@pytest.mark.parametrize("day, start, minutes, fold, shown", [
    (datetime.date(2026, 1, 5), (10, 0), 60, 0, "01/05/2026 10:00–11:00 CST"),  # a winter hour
    (datetime.date(2026, 7, 14), (15, 0), 60, 0, "07/14/2026 15:00–16:00 CDT"),  # a summer hour
    (datetime.date(2026, 1, 5), (10, 15), 15, 0, "01/05/2026 10:15–10:30 CST"),  # a 15-minute interval
    (datetime.date(2026, 3, 8), (1, 0), 60, 0, "03/08/2026 01:00 CST–03:00 CDT"),  # spring forward: 02:00 skipped
    (datetime.date(2026, 3, 8), (3, 0), 60, 0, "03/08/2026 03:00–04:00 CDT"),
    (datetime.date(2026, 11, 1), (0, 0), 60, 0, "11/01/2026 00:00–01:00 CDT"),  # fall back: 01:00 twice
    (datetime.date(2026, 11, 1), (1, 0), 60, 0, "11/01/2026 01:00 CDT–01:00 CST"),
    (datetime.date(2026, 11, 1), (1, 0), 60, 1, "11/01/2026 01:00–02:00 CST"),
    (datetime.date(2026, 11, 1), (1, 30), 15, 0, "11/01/2026 01:30–01:45 CDT"),  # the same wall clock twice,
    (datetime.date(2026, 11, 1), (1, 30), 15, 1, "11/01/2026 01:30–01:45 CST"),  # told apart by the zone
    (datetime.date(2026, 1, 5), (23, 0), 60, 0, "01/05/2026 23:00–24:00 CST"),  # ends at midnight: its own day's
    (datetime.date(2026, 1, 5), (23, 45), 15, 0, "01/05/2026 23:45–24:00 CST"),
    (datetime.date(2026, 1, 5), (23, 30), 60, 0, "01/05/2026 23:30–01/06/2026 00:30 CST"),  # runs past midnight
])
def test_an_interval_reads_as_its_date_wall_clock_and_zone_unambiguously(day, start, minutes, fold, shown):
    interval = _local_interval(day, start, minutes, fold=fold)
    assert str(interval) == shown
    assert period_shown(interval.data_text) == shown  # a CSV's or a record's text, worded the same
    assert ProductionPeriod.parse(interval.data_text) == interval  # which machines read back


def test_an_interval_is_worded_in_the_registrys_zone_whatever_offset_it_was_written_in(settings):
    hour = ProductionPeriod.parse("2026-01-05T16:00:00+00:00/2026-01-05T17:00:00+00:00")
    assert str(hour) == "01/05/2026 10:00–11:00 CST"
    settings.TIME_ZONE = "UTC"
    assert str(hour) == "01/05/2026 16:00–17:00 UTC"
    assert hour.data_text == "2026-01-05T16:00:00+00:00/2026-01-05T17:00:00+00:00"


def test_text_that_is_no_period_is_shown_as_it_is():
    assert period_shown("01/2020") == "01/2020"
    assert period_shown("sometime") == "sometime"


def test_a_month_runs_from_midnight_to_midnight_in_the_registrys_zone():
    january = ProductionPeriod.month(2020, 1)
    assert (january.start, january.end) == (datetime.datetime(2020, 1, 1, 6, tzinfo=UTC),
                                            datetime.datetime(2020, 2, 1, 6, tzinfo=UTC))
    december = ProductionPeriod.month(2025, 12)
    assert december.end == ProductionPeriod.month(2026, 1).start


@pytest.mark.parametrize("text", ["01/2020", "1/2020", " 01 / 2020 ", "2020-01", "2020-1"])
def test_a_month_is_read_as_users_and_the_api_write_it(text):
    assert ProductionPeriod.parse_month(text) == ProductionPeriod.month(2020, 1)
    assert ProductionPeriod.parse(text) == ProductionPeriod.month(2020, 1)


@pytest.mark.parametrize("text", ["", None, "13/2020", "00/2020", "12/0000", "01/1899", "2101-01", "2020/01",
                                  "January 2020", "01-2020"])
def test_anything_else_is_no_month(text):
    assert ProductionPeriod.parse_month(text) is None


def test_an_hour_is_read_and_written_for_machines_in_iso_8601_with_its_offset():
    hour = ProductionPeriod.parse("2026-01-01T10:00:00-06:00/2026-01-01T11:00:00-06:00")
    assert (hour.start, hour.end) == (datetime.datetime(2026, 1, 1, 16, tzinfo=UTC),
                                      datetime.datetime(2026, 1, 1, 17, tzinfo=UTC))
    assert not hour.is_month
    assert hour.data_text == hour.api_text == "2026-01-01T10:00:00-06:00/2026-01-01T11:00:00-06:00"
    assert str(hour) == "01/01/2026 10:00–11:00 CST"
    assert hour.serial_text == "20260101T1600Z"


@pytest.mark.parametrize("text", ["2026-01-01T10:00:00-06:00/2026-01-01T12:00:00-06:00",  # two hours
                                  "2026-01-01T11:00:00-06:00/2026-01-01T10:00:00-06:00",  # backwards
                                  "2026-01-01T10:00:00/2026-01-01T11:00:00",  # no offset
                                  "2026-01-01T10:00:00-06:00/tomorrow"])
def test_an_interval_longer_than_an_hour_or_without_offsets_is_refused(text):
    assert ProductionPeriod.parse(text) is None


def test_a_period_needs_two_moments_in_order():
    with pytest.raises(ValueError, match="time zone"):
        ProductionPeriod(datetime.datetime(2020, 1, 1), datetime.datetime(2020, 2, 1))
    with pytest.raises(ValueError, match="ends after it starts"):
        ProductionPeriod.interval(datetime.datetime(2020, 1, 1, 1, tzinfo=UTC),
                                  datetime.datetime(2020, 1, 1, tzinfo=UTC))


def test_a_month_contains_its_hours_and_moments_only():
    january = ProductionPeriod.month(2026, 1)
    last_hour = ProductionPeriod.parse("2026-01-31T23:00:00-06:00/2026-02-01T00:00:00-06:00")
    across = ProductionPeriod.parse("2026-01-31T23:30:00-06:00/2026-02-01T00:30:00-06:00")
    assert january.contains(last_hour) and not january.contains(across)
    assert january.overlaps(across) and ProductionPeriod.month(2026, 2).overlaps(across)
    assert january.contains(datetime.datetime(2026, 2, 1, 5, 59, tzinfo=UTC))  # 23:59 in Chicago
    assert not january.contains(january.end)


@given(months)
def test_a_month_reads_back_from_each_of_its_texts(month):
    assert ProductionPeriod.parse_month(str(month)) == month
    assert ProductionPeriod.parse_month(month.api_text) == month
    assert ProductionPeriod.parse(str(month)) == month
    assert MonthField().clean(str(month)) == month
    assert month.is_month and ProductionPeriod.month_of(month.start) == month
    assert ProductionPeriod.month_of(month.end - datetime.timedelta(microseconds=1)) == month


@given(months, months)
def test_months_order_as_their_years_and_months_do(first, second):
    assert (first < second) == ((first.year, first.first_day.month) < (second.year, second.first_day.month))
    assert (first == second) == (str(first) == str(second))
    assert first.overlaps(second) == (first == second)


@given(intervals)
def test_an_interval_reads_back_from_its_text_and_lies_in_a_month_or_across_two(interval):
    assert ProductionPeriod.parse(interval.data_text) == interval
    assert period_shown(interval.data_text) == str(interval)
    assert ProductionPeriod.parse(interval.api_text) == interval
    assert not interval.is_month
    first, last = ProductionPeriod.month_of(interval.start), ProductionPeriod.month_of(interval.end)
    assert first.contains(interval) or (first.overlaps(interval) and last.overlaps(interval))


@given(intervals, intervals)
def test_two_intervals_read_alike_only_if_they_are_the_same_time(first, second):
    assert (first == second) == (str(first) == str(second))


@given(intervals)
def test_a_period_equals_itself_written_in_another_offset(interval):
    elsewhere = ProductionPeriod(interval.start.astimezone(UTC), interval.end.astimezone(CHICAGO))
    assert elsewhere == interval and hash(elsewhere) == hash(interval) and str(elsewhere) == str(interval)


def test_the_period_column_gives_back_the_period(staff, generator, account):
    certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2020, 1),
                                    quantity=10, account=account)
    stored = Certificate.objects.get(pk=certificate.pk)
    assert stored.period == ProductionPeriod.month(2020, 1) and str(stored.period) == "01/2020"
    assert "-01-2020-" in stored.serial_base


def test_an_hourly_certificate_is_issued_filtered_and_shown_as_an_hour(staff, generator, account, signed_in,
                                                                      trader):
    hour = ProductionPeriod.parse("2026-01-15T10:00:00-06:00/2026-01-15T11:00:00-06:00")
    certificate = certificate_issue(user=staff, generator=generator, period=hour, quantity=1, account=account)
    assert "-20260115T1600Z-" in certificate.serial_base
    batches = CertificateBatch.objects.filter(certificate=certificate)
    response = signed_in(trader).get(DASHBOARD, {"vintage_from": "01/2026", "vintage_to": "01/2026"})
    assert [batch.pk for batch in response.context["page"].object_list] == [batch.pk for batch in batches]
    assert "01/15/2026 10:00–11:00 CST" in page_text(response)
    response = signed_in(trader).get(DASHBOARD, {"vintage_from": "02/2026"})
    assert list(response.context["page"].object_list) == []


def test_an_hour_inside_an_issued_month_is_refused(staff, generator, account):
    certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2026, 1), quantity=10,
                      account=account)
    hour = ProductionPeriod.parse("2026-01-15T10:00:00-06:00/2026-01-15T11:00:00-06:00")
    with pytest.raises(ServiceError, match="M805 already has certificates for 01/15/2026 10:00–11:00 CST"):
        certificate_issue(user=staff, generator=generator, period=hour, quantity=1, account=account)
    assert Certificate.objects.count() == 1


def test_a_month_next_to_an_issued_one_is_issued(staff, generator, account):
    for month in (1, 2):
        certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2026, month), quantity=10,
                          account=account)
    assert [str(certificate.period) for certificate in Certificate.objects.all()] == ["01/2026", "02/2026"]


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_each_vintage_into_its_month_and_back(org):
    """Certificates issued under the vintage column keep their month, their constraint and their rows."""
    generator = GeneratorFactory(organization=org, code="M805")
    before, after = [("certificates", "0005_generator_registration")], [("certificates", "0006_production_period")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO certificates_certificate (generator_id, vintage, quantity, serial_base, fuel_type, state, "
                "eligibilities, issued_at) VALUES (%s, '2020-01-01', 10, 'M805-MN-01-2020-AAAAAA', 'wind', 'MN', "
                "'{}', now()), (%s, '2020-12-01', 5, 'M805-MN-12-2020-BBBBBB', 'wind', 'MN', '{}', now())",
                [generator.pk, generator.pk])
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        # Read as the schema of 0006 has it (later migrations add columns to the model).
        assert [(str(c.period), c.quantity) for c in Certificate.objects.only("period", "quantity")] == [
            ("01/2020", 10), ("12/2020", 5)]
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        with connection.cursor() as cursor:
            cursor.execute("SELECT vintage FROM certificates_certificate ORDER BY vintage")
            assert cursor.fetchall() == [(datetime.date(2020, 1, 1),), (datetime.date(2020, 12, 1),)]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
