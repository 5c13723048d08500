"""The Active tab's filters for hourly batches (issue 33, item 3): an interval range and an hour of day,
on the dashboard (a plain GET form, and htmx), its CSV and the API's batches (the same FilterSet)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from api.models import ApiKey
from certificates.periods import ProductionPeriod

from .factories import GeneratorFactory
from .test_hourly import hours_of

DASHBOARD = reverse("dashboard:certificates")
DOWNLOAD = reverse("dashboard:download")
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
SPRING = datetime.date(2026, 3, 8)  # 23 hours in Chicago: 02:00 does not happen
AUTUMN = datetime.date(2026, 11, 1)  # 25 hours: 01:00 twice


@pytest.fixture
def hourly(issue, org, account):
    """A granular generator's certificates for every hour of the spring and autumn changes' days, in Chicago,
    and a monthly certificate of March 2026 (starting at midnight: hour 0, but no interval)."""
    generator = GeneratorFactory(organization=org, code="H100", granular=True, capacity_mw=Decimal(50),
                                 account=account)
    batches = {period: issue(1000 + index, period=period, generator=generator)
               for index, period in enumerate(hours_of(SPRING) + hours_of(AUTUMN))}
    monthly = issue(7, period=ProductionPeriod.month(2026, 3))
    return batches, monthly


def local_starts(batches) -> list[str]:
    return sorted(batch.certificate.period.start.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M %Z")
                  for batch in batches)


def shown(response) -> list:
    return list(response.context["page"].object_list)


def test_an_interval_range_lists_the_hours_inside_it_in_the_readers_zone(signed_in, trader, hourly):
    response = signed_in(trader).get(DASHBOARD, {"interval_from": "2026-03-08T00:00",
                                                 "interval_to": "2026-03-08T04:00"})
    assert response.status_code == 200
    # 02:00 never came that night: 00:00 CST, 01:00 CST, 03:00 CDT (the monthly certificate is no interval in it)
    assert local_starts(shown(response)) == ["2026-03-08 00:00 CST", "2026-03-08 01:00 CST", "2026-03-08 03:00 CDT"]


def test_an_interval_range_with_an_offset_is_that_moment(signed_in, trader, hourly):
    response = signed_in(trader).get(DASHBOARD, {"interval_from": "2026-11-01T06:00:00Z",
                                                 "interval_to": "2026-11-01T08:00:00Z"})
    # 06:00Z is 01:00 CDT, 07:00Z is 01:00 CST: the autumn night's two one o'clocks
    assert local_starts(shown(response)) == ["2026-11-01 01:00 CDT", "2026-11-01 01:00 CST"]


def test_a_month_wholly_inside_the_range_is_listed_as_the_vintage_filters_do(signed_in, trader, hourly):
    _, monthly = hourly
    response = signed_in(trader).get(DASHBOARD, {"interval_from": "2026-03-01T00:00",
                                                 "interval_to": "2026-04-01T00:00"})
    assert monthly in shown(response) and len(shown(response)) == 24


def test_an_hour_of_day_lists_the_intervals_starting_in_it_in_the_registrys_zone(signed_in, trader, hourly, settings):
    response = signed_in(trader).get(DASHBOARD, {"hour": "14"})
    assert local_starts(shown(response)) == ["2026-03-08 14:00 CDT", "2026-11-01 14:00 CST"]
    assert "Hour of day (America/Chicago)" in response.content.decode()


def test_the_autumn_nights_one_oclock_is_two_hours_and_midnight_no_month(signed_in, trader, hourly):
    client = signed_in(trader)
    assert local_starts(shown(client.get(DASHBOARD, {"hour": "1"}))) == [
        "2026-03-08 01:00 CST", "2026-11-01 01:00 CDT", "2026-11-01 01:00 CST"]
    assert local_starts(shown(client.get(DASHBOARD, {"hour": "0"}))) == [
        "2026-03-08 00:00 CST", "2026-11-01 00:00 CDT"]  # the month starting at midnight is no interval
    assert shown(client.get(DASHBOARD, {"hour": "2"}))[0].certificate.period.start.astimezone(CHICAGO).day == 1


def test_the_hour_and_the_range_together(signed_in, trader, hourly):
    response = signed_in(trader).get(DASHBOARD, {"hour": "23", "interval_from": "2026-11-01T00:00"})
    assert local_starts(shown(response)) == ["2026-11-01 23:00 CST"]


@pytest.mark.parametrize(("query", "field", "message"), [
    ({"hour": "24"}, "hour", "Select a valid choice"),
    ({"interval_from": "soon"}, "interval_from", "Enter a date and time"),
    ({"interval_to": "2026-13-01T00:00"}, "interval_to", "Enter a date and time"),
])
def test_a_wrong_filter_is_explained_and_filters_nothing(signed_in, trader, hourly, query, field, message):
    response = signed_in(trader).get(DASHBOARD, query)
    assert message in " ".join(response.context["filter"].form.errors[field])
    assert message in response.content.decode()


def test_the_filters_are_a_plain_get_form_and_htmx_swaps_the_table(signed_in, trader, hourly):
    client = signed_in(trader)
    page = client.get(DASHBOARD).content.decode()
    assert 'type="datetime-local" name="interval_from"' in page and '<select name="hour"' in page
    partial = client.get(DASHBOARD, {"hour": "14"}, headers={"HX-Request": "true", "HX-Target": "results"})
    content = partial.content.decode()
    assert "<html" not in content and 'id="batches"' in content
    assert len(shown(partial)) == 2


def test_the_filtered_list_costs_the_same_queries(signed_in, trader, hourly):
    client = signed_in(trader)
    counts = []
    for query in ({}, {"hour": "14", "interval_from": "2026-01-01T00:00", "interval_to": "2026-12-01T00:00"}):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(DASHBOARD, query).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_download_takes_the_same_filters(signed_in, trader, hourly):
    response = signed_in(trader).get(DOWNLOAD, {"hour": "14"})
    rows = b"".join(response.streaming_content).decode().strip().splitlines()
    assert len(rows) == 3  # the header and the two 14:00 hours


def test_the_api_batches_take_the_same_filters_in_utc(api_as, org, viewer, hourly):
    client = api_as(viewer, org, ApiKey.Scope.READ)
    response = client.get("/api/v1/batches/", {"hour": "14", "interval_from": "2026-11-01T00:00"})
    assert response.status_code == 200, response.content
    assert [row["vintage"] for row in response.json()["results"]] == [
        "2026-11-01T14:00:00-06:00/2026-11-01T15:00:00-06:00"]
    # without an offset, the API reads UTC: 06:00Z is 01:00 CDT
    early = client.get("/api/v1/batches/", {"interval_from": "2026-11-01T06:00", "interval_to": "2026-11-01T07:00"})
    assert [row["vintage"] for row in early.json()["results"]] == [
        "2026-11-01T01:00:00-05:00/2026-11-01T01:00:00-06:00"]
    bad = client.get("/api/v1/batches/", {"hour": "25"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "hour"


def test_another_organizations_hours_are_not_listed(signed_in, outsider, hourly):
    response = signed_in(outsider).get(DASHBOARD, {"hour": "14"})
    assert shown(response) == []
