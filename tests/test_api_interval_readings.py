"""Interval readings through the API, for meter data systems (issue 33, item 1): the interval file's
rules (issuance.intervals), all or nothing, idempotent, each refusal naming the reading and the reason;
the readings listed back, scoped to the key's organization."""

import datetime
import uuid
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from api.models import ApiKey
from certificates.models import Certificate
from issuance.models import GenerationReport, IntervalReading
from issuance.services import issuance_run
from registry.models import Membership

from .factories import GeneratorFactory, api_key_for, member
from .test_hourly import CHICAGO, hours_of, rows
from .threads import at_once

API = "/api/v1/interval-readings/"
JUNE_FIRST = hours_of(datetime.date(2020, 6, 1))


@pytest.fixture
def granular(org, account):
    return GeneratorFactory(organization=org, code="H100", granular=True, capacity_mw=Decimal("50"), account=account)


@pytest.fixture
def meter(api_as, org, trader):
    """A meter data system's key: a trader's, trade scope."""
    return api_as(trader, org, ApiKey.Scope.TRADE)


def reading(period, wh=1_000_000, generator="H100", zone=CHICAGO) -> dict:
    return {"generator": generator, "interval_start": period.start.astimezone(zone).isoformat(),
            "interval_end": period.end.astimezone(zone).isoformat(), "wh": wh}


def send(client, readings, key=None):
    return client.post(API, {"readings": readings}, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def errors(response) -> dict[str, str]:
    assert response["Content-Type"] == "application/problem+json", response.content
    return {error["field"]: error["detail"] for error in response.json()["errors"]}


def nothing_recorded():
    return not IntervalReading.objects.exists() and not GenerationReport.objects.exists()


def test_a_day_of_hours_is_recorded_with_its_months_total(meter, granular, trader):
    response = send(meter, [reading(hour, 1_000_000 + index) for index, hour in enumerate(JUNE_FIRST)])

    assert response.status_code == 201, response.content
    assert response.json() == {"readings": 24, "wh": 24_000_276, "months": [
        {"generator": "H100", "month": "2020-06", "mwh": "24.000", "status": "submitted"}]}
    readings = list(IntervalReading.objects.filter(generator=granular).order_by("period"))
    assert [row.period for row in readings] == JUNE_FIRST
    assert {row.submitted_by for row in readings} == {trader} and {row.upload for row in readings} == {None}
    report = GenerationReport.objects.live().get(generator=granular)
    assert (report.month, report.mwh, report.submitted_by) == (datetime.date(2020, 6, 1), Decimal("24.000"), trader)
    listed = meter.get(response["Location"])  # what was recorded, listed
    assert listed.status_code == 200
    assert [(row["interval_start"], row["wh"], row["status"]) for row in listed.json()["results"]] == [
        (hour.start.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z"), 1_000_000 + index, "submitted")
        for index, hour in enumerate(JUNE_FIRST)]


def test_the_next_day_adds_to_the_months_report(meter, granular):
    assert send(meter, [reading(hour) for hour in JUNE_FIRST]).status_code == 201
    response = send(meter, [reading(hour, 500_000) for hour in hours_of(datetime.date(2020, 6, 2))])
    assert response.status_code == 201, response.content
    assert response.json()["months"] == [{"generator": "H100", "month": "2020-06", "mwh": "36.000",
                                          "status": "submitted"}]
    assert GenerationReport.objects.filter(generator=granular, status="replaced").count() == 1


def test_a_retry_with_the_same_key_records_nothing_again(meter, granular):
    key, readings = str(uuid.uuid4()), [reading(hour) for hour in JUNE_FIRST[:3]]
    first, again = send(meter, readings, key), send(meter, readings, key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert IntervalReading.objects.count() == 3


def test_readings_overlapping_each_other_are_refused_naming_the_reading(meter, granular):
    half_past = JUNE_FIRST[0].start + datetime.timedelta(minutes=30)
    overlapping = {"generator": "H100", "interval_start": half_past.isoformat(),
                   "interval_end": (half_past + datetime.timedelta(hours=1)).isoformat(), "wh": 1000}
    response = send(meter, [reading(JUNE_FIRST[0]), overlapping])
    assert response.status_code == 422
    assert "overlaps readings[0]'s of H100" in errors(response)["readings[1].interval_start"]
    assert "nothing was recorded" in response.json()["detail"]
    assert nothing_recorded()


def test_a_reading_overlapping_one_uploaded_before_is_refused(meter, granular, upload_run):
    assert upload_run(rows(granular, JUNE_FIRST[:2])).status == "completed"  # by the file, the same rules
    response = send(meter, [reading(JUNE_FIRST[2]), reading(JUNE_FIRST[1])])
    assert response.status_code == 422
    assert list(errors(response)) == ["readings[1].interval_start"]
    assert "reported already" in errors(response)["readings[1].interval_start"]
    assert IntervalReading.objects.count() == 2


def test_more_than_capacity_times_the_interval_is_refused(meter, granular):
    response = send(meter, [reading(JUNE_FIRST[0], 50_000_001)])
    assert response.status_code == 422
    assert errors(response) == {"readings[0].wh": "50,000,001 Wh is more than H100's capacity of 50 MW makes in "
                                                  "this interval (at most 50,000,000 Wh)."}
    assert nothing_recorded()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("interval_start", "2020-06-01T10:00:00", "offset from UTC"),
    ("interval_end", "2020-06-01T03:00:00-05:00", "lasts 2 hours"),
    ("interval_end", "soon", "ISO 8601"),
    ("wh", -5, "cannot be negative"),
    ("generator", "M805", "no generator with this ID"),
])
def test_a_wrong_value_is_refused_with_its_reading_and_reason(meter, granular, field, value, message):
    response = send(meter, [reading(JUNE_FIRST[0]), reading(JUNE_FIRST[1]) | {field: value}])
    assert response.status_code == 422, response.content
    assert message in errors(response)[f"readings[1].{field}"]
    assert nothing_recorded()


def test_an_interval_not_over_yet_is_refused(meter, granular):
    start = datetime.datetime.now(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    response = send(meter, [{"generator": "H100", "interval_start": start.isoformat(),
                             "interval_end": (start + datetime.timedelta(hours=1)).isoformat(), "wh": 1}])
    assert response.status_code == 422
    assert "not over yet" in errors(response)["readings[0].interval_end"]


def test_a_monthly_generator_takes_no_readings(meter, generator):
    response = send(meter, [reading(JUNE_FIRST[0], generator=generator.code)])
    assert response.status_code == 422
    assert list(errors(response)) == ["readings[0].generator"]


def test_a_late_reading_of_an_issued_month_is_refused(meter, granular, staff):
    assert send(meter, [reading(JUNE_FIRST[0])]).status_code == 201
    issuance_run(user=staff, reports=GenerationReport.objects.filter(generator=granular))
    response = send(meter, [reading(JUNE_FIRST[1])])
    assert response.status_code == 422
    assert "was issued meanwhile" in response.json()["detail"]
    assert IntervalReading.objects.count() == 1


def test_the_list_gives_each_readings_outcome_once_its_month_is_issued(meter, granular, staff):
    """Issued once the month is, with its certificate's serial base; a reading of 0 Wh is issued with none. The
    status filter reads the same outcome."""
    assert send(meter, [reading(JUNE_FIRST[0]), reading(JUNE_FIRST[1], wh=0)]).status_code == 201
    before = meter.get(API).json()["results"]
    assert [(row["status"], row["certificate"]) for row in before] == [("submitted", None)] * 2
    issuance_run(user=staff, reports=GenerationReport.objects.filter(generator=granular))
    certificate = Certificate.objects.get(generator=granular)
    after = meter.get(API).json()["results"]
    assert [(row["status"], row["certificate"], row["wh"]) for row in after] == [
        ("issued", certificate.serial_base, 1_000_000), ("issued", None, 0)]
    assert len(meter.get(API, {"status": "issued"}).json()["results"]) == 2
    assert meter.get(API, {"status": "submitted"}).json()["results"] == []


@pytest.mark.parametrize("body", [{}, {"readings": []}, {"readings": [{"generator": "H100"}]},
                                  {"readings": [{"generator": "H100", "interval_start": "2020-06-01T10:00:00Z",
                                                 "interval_end": "2020-06-01T11:00:00Z", "wh": "1000"}]}])
def test_a_body_of_the_wrong_shape_is_a_400(meter, granular, body):
    response = meter.post(API, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert response.status_code == 400, response.content
    assert nothing_recorded()


def test_a_read_key_cannot_send_readings(api_as, org, viewer, granular):
    response = send(api_as(viewer, org, ApiKey.Scope.READ), [reading(JUNE_FIRST[0])])
    assert response.status_code == 403
    assert nothing_recorded()


def test_a_trade_key_whose_creator_became_a_viewer_cannot_send_readings(org, granular):
    user = member(org, Membership.Role.TRADER, email="meter@prairiewind.example")
    _, key = api_key_for(user, org, ApiKey.Scope.TRADE)
    Membership.objects.filter(user=user).update(role=Membership.Role.VIEWER)
    client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert send(client, [reading(JUNE_FIRST[0])]).status_code in (401, 403)
    assert nothing_recorded()


def test_another_organizations_key_neither_sends_for_the_generator_nor_reads_its_readings(api_as, outsider, meter,
                                                                                         granular):
    stranger = api_as(outsider, outsider.memberships.get().organization, ApiKey.Scope.TRADE)
    response = send(stranger, [reading(JUNE_FIRST[0])])
    assert response.status_code == 422
    assert "no generator with this ID" in errors(response)["readings[0].generator"]
    assert send(meter, [reading(JUNE_FIRST[0])]).status_code == 201
    assert stranger.get(API).json()["results"] == []
    assert len(meter.get(API).json()["results"]) == 1


def test_the_list_filters_by_interval_range_and_generator(meter, granular, org, account):
    other = GeneratorFactory(organization=org, code="H200", granular=True, capacity_mw=Decimal("5"), account=account)
    assert send(meter, [reading(hour) for hour in JUNE_FIRST]).status_code == 201
    assert send(meter, [reading(JUNE_FIRST[0], generator="H200")]).status_code == 201
    window = meter.get(API, {"generator": "h100", "interval_from": "2020-06-01T12:00:00Z",
                             "interval_to": "2020-06-01T15:00:00Z"}).json()["results"]
    assert [row["interval_start"] for row in window] == ["2020-06-01T12:00:00Z", "2020-06-01T13:00:00Z",
                                                         "2020-06-01T14:00:00Z"]
    assert [row["generator"] for row in meter.get(API, {"generator": other.code}).json()["results"]] == ["H200"]
    bad = meter.get(API, {"interval_from": "soon"})
    assert bad.status_code == 400 and "interval_from" in errors(bad)


@pytest.mark.django_db(transaction=True)
def test_two_requests_of_one_generators_month_at_once_both_count_in_its_total(org, trader, account):
    """A meter data system sends hours in parallel: each waits for the other's month, then totals both."""
    GeneratorFactory(organization=org, code="H100", granular=True, capacity_mw=Decimal("50"), account=account)
    _, key = api_key_for(trader, org, ApiKey.Scope.TRADE)
    bodies = iter([[reading(hour, 1_000_000) for hour in JUNE_FIRST[:12]],
                   [reading(hour, 2_000_000) for hour in JUNE_FIRST[12:]]])

    def post():
        return send(APIClient(HTTP_AUTHORIZATION=f"Api-Key {key}"), next(bodies)).status_code

    assert at_once(post) == [201, 201]
    assert IntervalReading.objects.count() == 24
    assert GenerationReport.objects.live().get().mwh == Decimal("36.000")
