"""Hourly (24/7) matching (issue 33, item 4): consumption sites, their consumption per interval, and
Match, which retires each hour's held hourly certificates up to that hour's consumption, lowest serials
first, as one retirement with a matching statement (its digest and public page)."""

import datetime
import hashlib
import io
import json
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from pypdf import PdfReader

from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from events.models import Event
from issuance.intervals import clock_hour, consumption_interval_refusal
from ledger.verification import ledger_breaches
from matching.consumption import CONSUMPTION
from matching.models import MATCHING_OPTION, ConsumptionReading, ConsumptionSite, MatchingStatement
from matching.services import consumption_record, match_run, site_register
from matching.statements import (
    day_shares,
    hour_shares,
    statement_digest,
    statement_verification_url,
    unmatched_hours,
)
from matching.values import ConsumptionRefused, MatchingRefused, days_span
from registry.services import ServiceError
from retirements.models import Retirement
from retirements.services import retirement_privacy_set
from utilities.csv_upload import read_rows

from .factories import GeneratorFactory
from .matching import consumption, consumption_csv, hour, hourly_batch, quarter, quarter_consumption

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.fixture
def site(org, trader):
    return site_register(organization=org, user=trader, code="METER-1", name="Duluth plant")


@pytest.fixture
def held(staff, org, account):
    """held(n, wh, generator=...) -> a batch of an hourly certificate of hour n held in `account`, of a
    new granular generator if none is given (one certificate per generator and hour)."""
    def _held(n, wh, generator=None):
        generator = generator or GeneratorFactory(organization=org, granular=True, account=account)
        return hourly_batch(staff=staff, generator=generator, account=account, n=n, wh=wh)
    return _held


@pytest.fixture
def matched(org, trader, retirement_account, no_wakeups):
    def _matched(site, span=None):
        return match_run(organization=org, user=trader, site=site, account=retirement_account, span=span)
    return _matched


def retired_of(batch) -> list[tuple[int, int]]:
    """The retired serial ranges of a batch's certificate."""
    return list(CertificateBatch.objects.filter(certificate=batch.certificate, status="retired")
                .order_by("serial_start").values_list("serial_start", "serial_end"))


# Match: each hour's certificates, up to its consumption.

def test_match_retires_each_hours_certificates_up_to_its_consumption_lowest_serials_first(site, trader, held,
                                                                                        matched):
    first, second = held(0, 1000), held(0, 1000)
    short = held(1, 300)
    other_hour = held(5, 900)
    consumption(site, trader, {0: 1500, 1: 800})

    statement = matched(site)

    assert retired_of(first) == [(1, 1000)]
    assert retired_of(second) == [(1, 500)]  # the lowest serials of the second certificate
    assert retired_of(short) == [(1, 300)]
    assert retired_of(other_hour) == []  # no consumption in its hour: never retired for another
    assert dict(ConsumptionReading.objects.values_list("period", "matched_wh")) == {hour(0): 1500, hour(1): 300}
    record = statement.record
    assert [(h["consumption_wh"], h["matched_wh"]) for h in record["hours"]] == [(1500, 1500), (800, 300)]
    assert [c["serial_number"].rsplit("-", 1)[-1] for c in record["hours"][0]["certificates"]] == ["1 to 1000",
                                                                                                  "1 to 500"]
    assert (record["consumption_wh"], record["matched_wh"]) == (2300, 1800)
    retirement = statement.retirement
    assert retirement.option.name == MATCHING_OPTION
    assert retirement.transfer.items.count() == 3
    assert ledger_breaches() == []


def test_a_match_never_retires_more_than_the_hours_consumption_even_holding_plenty(site, trader, held, matched):
    batches = [held(0, 5000), held(0, 5000)]
    consumption(site, trader, {0: 1234})

    matched(site)

    assert sum(CertificateBatch.objects.filter(certificate__in=[b.certificate for b in batches], status="retired")
               .values_list("quantity", flat=True)) == 1234
    assert CertificateBatch.objects.get(certificate=batches[0].certificate, status="active").quantity == 5000 - 1234


def test_an_hour_without_certificates_of_that_hour_is_refused_and_nothing_retires(site, trader, held, matched):
    other_hour = held(3, 1000)
    consumption(site, trader, {0: 500, 1: 500})

    with pytest.raises(MatchingRefused, match="holds no active hourly certificates"):
        matched(site)

    assert retired_of(other_hour) == []
    assert list(ConsumptionReading.objects.values_list("matched_wh", flat=True)) == [0, 0]
    assert not MatchingStatement.objects.exists()


def test_matching_again_matches_only_what_is_left(site, trader, held, matched):
    held(0, 400)
    consumption(site, trader, {0: 1000})
    first = matched(site)
    later = held(0, 1000)

    second = matched(site)

    assert retired_of(later) == [(1, 600)]
    assert second.record["hours"][0] | {"certificates": []} == {
        "start": "2026-11-02T06:00:00Z", "end": "2026-11-02T07:00:00Z", "consumption_wh": 1000,
        "matched_before_wh": 400, "matched_wh": 600, "certificates": []}
    assert first.reference != second.reference
    with pytest.raises(MatchingRefused, match="no consumption left to match"):
        matched(site)


def test_the_database_refuses_a_reading_matched_beyond_its_consumption(site, trader):
    reading, = consumption(site, trader, {0: 100})
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsumptionReading.objects.filter(pk=reading.pk).update(matched_wh=101)


def test_a_statement_is_never_changed(site, trader, held, matched):
    held(0, 10)
    consumption(site, trader, {0: 10})
    statement = matched(site)
    with pytest.raises(IntegrityError), transaction.atomic():
        MatchingStatement.objects.filter(pk=statement.pk).update(record={"forged": True})


def test_a_match_within_days_leaves_the_other_days(site, trader, held, matched):
    held(0, 100)
    held(30, 100)  # the next day, in Chicago
    consumption(site, trader, {0: 100, 30: 100})
    first_day = ProductionPeriod(hour(0).start, hour(24).start)

    statement = matched(site, span=first_day)

    assert len(statement.record["hours"]) == 1
    assert dict(ConsumptionReading.objects.values_list("period", "matched_wh")) == {hour(0): 100, hour(30): 0}


def test_only_certificates_of_the_sites_grid_area_or_of_none_are_matched(org, trader, held, matched, staff, account):
    miso = GeneratorFactory(organization=org, code="H200", granular=True, grid_area="MISO", account=account)
    pjm = GeneratorFactory(organization=org, code="H300", granular=True, grid_area="PJM", account=account)
    site = site_register(organization=org, user=trader, code="M-2", name="St Paul", grid_area="MISO")
    in_pjm, in_miso, no_area = held(0, 100, generator=pjm), held(0, 100, generator=miso), held(0, 100)
    consumption(site, trader, {0: 1000})

    matched(site)

    assert (retired_of(in_pjm), retired_of(in_miso), retired_of(no_area)) == ([], [(1, 100)], [(1, 100)])


def test_monthly_expired_and_others_certificates_are_not_matched(site, trader, held, matched, issue, settings, staff,
                                                                  counterparty, counterparty_account):
    month = issue(100, period=ProductionPeriod.month(2026, 11))
    settings.CERTIFICATE_EXPIRY_YEARS = 0  # expired at the end of its hour (beat has not expired it yet)
    past_expiry = held(1, 100)
    settings.CERTIFICATE_EXPIRY_YEARS = 2
    consumption(site, trader, {0: 100, 1: 100})
    held(0, 40)
    theirs = hourly_batch(staff=staff, account=counterparty_account, n=0, wh=100, generator=GeneratorFactory(
        organization=counterparty, granular=True, account=counterparty_account))

    statement = matched(site)

    assert retired_of(month) == retired_of(past_expiry) == retired_of(theirs) == []
    assert [h["matched_wh"] for h in statement.record["hours"]] == [40, 0]


def test_a_match_is_a_retirement_with_its_domain_event_for_the_public_log(site, trader, held, matched):
    held(0, 100)
    consumption(site, trader, {0: 100})

    statement = matched(site)

    assert Retirement.objects.filter(pk=statement.retirement.pk).exists()
    assert Event.objects.filter(kind=Event.Kind.RETIREMENT_MADE, subject_id=statement.retirement.pk).exists()


def test_a_viewer_cannot_match(org, viewer, site, retirement_account, held, trader):
    held(0, 100)
    consumption(site, trader, {0: 100})
    with pytest.raises(ServiceError):
        match_run(organization=org, user=viewer, site=site, account=retirement_account)
    assert not MatchingStatement.objects.exists()


# Sites and consumption.

def test_a_site_id_is_unique_in_the_organization_in_any_case(org, trader, site):
    with pytest.raises(MatchingRefused, match="has a site with the ID meter-1 already"):
        site_register(organization=org, user=trader, code="meter-1", name="Again")
    with pytest.raises(MatchingRefused, match="letters, digits"):
        site_register(organization=org, user=trader, code="a b", name="Spaces")


def records_of(text: str):
    records, errors = read_rows(text.encode(), CONSUMPTION)
    assert errors == []
    return records


def test_consumption_is_recorded_per_interval_with_its_offset(org, trader, site):
    count = consumption_record(organization=org, user=trader,
                               records=records_of(consumption_csv("meter-1", {0: 10, 1: 20}, zone=CHICAGO)))
    assert count == 2
    assert list(ConsumptionReading.objects.order_by("period").values_list("period", "wh")) == [(hour(0), 10),
                                                                                                (hour(1), 20)]


@pytest.mark.parametrize(("row", "message"), [
    ("NOPE,2026-11-02T06:00:00Z,2026-11-02T07:00:00Z,10", "has no consumption site with this ID"),
    ("METER-1,2026-11-02T06:00:00,2026-11-02T07:00:00Z,10", "with its offset from UTC"),
    ("METER-1,2026-11-02T06:00:00Z,2026-11-02T08:00:00Z,10", "runs past 01:00 CST, the end of its hour"),
    ("METER-1,2099-11-02T06:00:00Z,2099-11-02T07:00:00Z,10", "not over yet"),
    ("METER-1,2026-11-02T06:00:00Z,2026-11-02T07:00:00Z,-5", "cannot be negative"),
    ("METER-1,2026-11-02T06:00:00Z,2026-11-02T07:00:00Z,1.5", "whole number"),
    ("METER-1,2026-11-02T06:30:00Z,2026-11-02T06:45:00Z,10", "overlaps row 2's"),
    ("METER-1,2026-11-02T07:45:00Z,2026-11-02T08:15:00Z,10", "runs past 02:00 CST, the end of its hour"),
    ("METER-1,2026-11-02T07:00:30Z,2026-11-02T07:15:00Z,10", "whole minutes"),
    ("METER-1,2026-11-01T06:00:00Z,2026-11-01T07:00:00Z,10", "recorded already"),
])
def test_bad_consumption_is_refused_with_its_row_and_nothing_is_recorded(org, trader, site, row, message):
    consumption(site, trader, {-24: 5})  # 2026-11-01 06:00 UTC
    before = list(ConsumptionReading.objects.values_list("pk", "wh"))
    text = consumption_csv("METER-1", {0: 10}) + row + "\r\n"
    with pytest.raises(ConsumptionRefused) as refused:
        consumption_record(organization=org, user=trader, records=records_of(text))
    assert [error.row for error in refused.value.errors if message in error.message] == [3], refused.value.errors
    assert list(ConsumptionReading.objects.values_list("pk", "wh")) == before


# Pages.

def test_upload_match_and_statement_pages(client, trader, org, held, retirement_account, site, no_wakeups):
    held(0, 600)
    client.force_login(trader)
    upload = SimpleUploadedFile("use.csv", consumption_csv("METER-1", {0: 1000, 1: 50}).encode())
    response = client.post(reverse("matching:upload"), {"file": upload})
    assert response.status_code == 302
    response = client.post(reverse("matching:match", args=["meter-1"]), {"account": retirement_account.pk})
    statement = MatchingStatement.objects.get()
    assert response.url == reverse("matching:statement", args=[statement.reference])

    page = client.get(response.url).content.decode()
    assert "60.0%" in page and "0.0%" in page  # hour 0: 600 of 1,000; hour 1: none
    assert 'id="matching-chart"' in page and statement.record["hours"][0]["certificates"][0]["serial_number"] in page


def test_a_refused_upload_lists_each_row(client, trader, site):
    client.force_login(trader)
    text = consumption_csv("METER-1", {0: 10}) + "OTHER,2026-11-02T07:00:00Z,2026-11-02T08:00:00Z,1\r\n"
    response = client.post(reverse("matching:upload"), {"file": SimpleUploadedFile("use.csv", text.encode())})
    assert response.status_code == 400
    assert "has no consumption site with this ID" in response.content.decode()
    assert not ConsumptionReading.objects.exists()


def test_the_public_page_gives_the_record_and_its_digest(client, site, trader, held, matched):
    held(0, 100)
    consumption(site, trader, {0: 100})
    statement = matched(site)

    answer = client.get(reverse("matching:verify_json", args=[statement.reference.lower()])).json()
    canonical = json.dumps(answer["record"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert answer["digest"]["value"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert answer["record"] == statement.record
    page = client.get(reverse("matching:verify", args=[statement.reference])).content.decode()
    assert answer["digest"]["value"] in page and "100.0%" in page


def test_a_private_retirements_statement_is_not_public(client, site, trader, held, matched, org):
    held(0, 100)
    consumption(site, trader, {0: 100})
    statement = matched(site)
    retirement_privacy_set(organization=org, user=trader, retirement=statement.retirement, private=True)
    assert client.get(reverse("matching:verify", args=[statement.reference])).status_code == 404


def test_an_outsider_gets_404_for_the_sites_and_statements(client, outsider, site, trader, held, matched,
                                                         retirement_account):
    held(0, 100)
    consumption(site, trader, {0: 100})
    statement = matched(site)
    client.force_login(outsider)
    assert client.get(reverse("matching:site", args=["METER-1"])).status_code == 404
    assert client.get(reverse("matching:statement", args=[statement.reference])).status_code == 404
    assert client.post(reverse("matching:match", args=["METER-1"]),
                       {"account": retirement_account.pk}).status_code == 404
    assert "METER-1" not in client.get(reverse("matching:sites")).content.decode()


def test_a_viewer_sees_the_site_but_cannot_post(client, viewer, site, retirement_account):
    client.force_login(viewer)
    assert client.get(reverse("matching:site", args=["METER-1"])).status_code == 200
    assert client.post(reverse("matching:match", args=["METER-1"]),
                       {"account": retirement_account.pk}).status_code == 403
    assert client.post(reverse("matching:site_new"), {"code": "X", "name": "Y"}).status_code == 403
    assert ConsumptionSite.objects.count() == 1


# The API: the same rules.

def test_the_api_records_consumption_and_refuses_with_the_bodys_fields(api_as, org, trader, site):
    from .test_api_transfers import post
    client = api_as(trader, org, "trade")
    reading = {"site": "METER-1", "start": "2026-11-02T00:00:00-06:00", "end": "2026-11-02T01:00:00-06:00", "wh": 10}
    response = post(client, "/api/v1/consumption/", {"readings": [reading]})
    assert (response.status_code, response.json()) == (200, {"recorded": 1})

    response = post(client, "/api/v1/consumption/", {"readings": [
        reading | {"start": "2026-11-02T02:00:00-06:00", "end": "2026-11-02T03:00:00-06:00"},
        reading | {"start": "2026-11-02T00:30:00-06:00", "end": "2026-11-02T00:45:00-06:00"}]})
    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["readings[1].start"]
    assert ConsumptionReading.objects.count() == 1


def test_the_api_matches_with_a_retire_key_only(api_as, org, trader, site, held, retirement_account, no_wakeups):
    from .test_api_transfers import post
    held(0, 70)
    consumption(site, trader, {0: 100})
    body = {"site": "meter-1", "account": retirement_account.public_id}
    assert post(api_as(trader, org, "trade"), "/api/v1/matching/", body).status_code == 403

    response = post(api_as(trader, org, "retire"), "/api/v1/matching/", body)

    assert response.status_code == 201, response.json()
    statement = MatchingStatement.objects.get()
    answer = response.json()
    assert (answer["reference"], answer["matched_wh"], answer["consumption_wh"]) == (statement.reference, 70, 100)
    assert answer["digest"] == hashlib.sha256(json.dumps(statement.record, sort_keys=True, separators=(",", ":"),
                                                         ensure_ascii=False).encode()).hexdigest()
    assert response["Location"].endswith(f"/verify/{statement.reference}/hours/")


# Meters and certificates of other intervals: matched per hour of the registry's clock.

def test_quarter_hour_consumption_is_matched_by_its_hours_certificate(site, trader, held, matched):
    short, plenty = held(0, 600), held(1, 2000)
    readings = quarter_consumption(site, trader, {0: [250, 250, 250, 250], 1: [100, 200, 300, 400]})

    statement = matched(site)

    assert (retired_of(short), retired_of(plenty)) == ([(1, 600)], [(1, 1000)])
    record = statement.record
    assert [(h["start"], h["end"], h["consumption_wh"], h["matched_wh"]) for h in record["hours"]] == [
        ("2026-11-02T06:00:00Z", "2026-11-02T07:00:00Z", 1000, 600),
        ("2026-11-02T07:00:00Z", "2026-11-02T08:00:00Z", 1000, 1000)]
    assert [share.percent for share in hour_shares(record)] == ["60.0%", "100.0%"]
    assert [(share.label, share.consumption_wh, share.matched_wh, share.percent) for share in day_shares(record)] == [
        ("2026-11-02", 2000, 1600, "80.0%")]
    # An hour's matched Wh are counted against its readings earliest first.
    assert [ConsumptionReading.objects.get(pk=r.pk).matched_wh for r in readings] == [250, 250, 100, 0,
                                                                                    100, 200, 300, 400]


def test_matching_an_hour_again_counts_all_its_readings(site, trader, held, matched):
    held(0, 600)
    readings = quarter_consumption(site, trader, {0: [250, 250, 250, 250]})
    matched(site)
    held(0, 1000)

    again = matched(site)

    assert again.record["hours"][0] | {"certificates": []} == {
        "start": "2026-11-02T06:00:00Z", "end": "2026-11-02T07:00:00Z", "consumption_wh": 1000,
        "matched_before_wh": 600, "matched_wh": 400, "certificates": []}
    assert [share.percent for share in hour_shares(again.record)] == ["100.0%"]  # of the 400 Wh left open
    assert [ConsumptionReading.objects.get(pk=r.pk).matched_wh for r in readings] == [250] * 4


def test_hourly_consumption_is_matched_by_the_quarter_hour_certificates_within_the_hour(
        site, trader, matched, staff, org, account, settings):
    settings.GRANULAR_INTERVAL_MINUTES = 15
    generator = GeneratorFactory(organization=org, granular=True, account=account)
    quarters = [hourly_batch(staff=staff, generator=generator, account=account, n=0, wh=300, period=quarter(0, q))
                for q in range(4)]
    across = hourly_batch(staff=staff, generator=GeneratorFactory(organization=org, granular=True, account=account),
                          account=account, n=0, wh=300,
                          period=ProductionPeriod(quarter(0, 3).start, quarter(1, 0).end))  # 06:45 to 07:15 UTC
    consumption(site, trader, {0: 1000, 1: 1000})

    statement = matched(site)

    assert [retired_of(batch) for batch in quarters] == [[(1, 300)], [(1, 300)], [(1, 300)], [(1, 100)]]
    assert retired_of(across) == []  # across the hour's end: it serves neither hour
    assert [h["matched_wh"] for h in statement.record["hours"]] == [1000, 0]


def test_quarter_hour_consumption_uploads_with_its_offsets(org, trader, site):
    text = "Site ID,Interval start,Interval end,Wh\r\n" + "".join(
        f"METER-1,{quarter(0, q).start.astimezone(CHICAGO).isoformat()},"
        f"{quarter(0, q).end.astimezone(CHICAGO).isoformat()},{q + 1}\r\n" for q in range(4))
    assert consumption_record(organization=org, user=trader, records=records_of(text)) == 4
    assert list(ConsumptionReading.objects.values_list("period", "wh")) == [(quarter(0, q), q + 1) for q in range(4)]


def test_the_25_hour_day_is_matched_hour_by_hour_and_shown_as_one_day(site, trader, matched, staff, org, account):
    """2026-11-01 in Chicago: the clocks go back at 02:00 CDT, so 01:00 comes twice (06:00 and 07:00 UTC)."""
    generator = GeneratorFactory(organization=org, granular=True, account=account)
    day = range(-25, 0)  # 05:00 UTC on 1 November to 06:00 UTC on the 2nd
    for n in day:
        hourly_batch(staff=staff, generator=generator, account=account, n=n, wh=10 if n == -23 else 40)
    quarter_consumption(site, trader, {n: [10, 10, 10, 10] for n in day})

    statement = matched(site, span=days_span(datetime.date(2026, 11, 1), datetime.date(2026, 11, 1)))

    hours = statement.record["hours"]
    assert len(hours) == 25
    assert [(h["start"], h["consumption_wh"], h["matched_wh"]) for h in hours[1:3]] == [
        ("2026-11-01T06:00:00Z", 40, 40), ("2026-11-01T07:00:00Z", 40, 10)]  # the two 01:00 hours, each its own
    assert [(share.label, share.consumption_wh, share.matched_wh, share.percent)
            for share in day_shares(statement.record)] == [("2026-11-01", 1000, 970, "97.0%")]
    assert [share.label for share in hour_shares(statement.record)][:3] == [
        "11/01/2026 00:00–01:00 CDT", "11/01/2026 01:00 CDT–01:00 CST", "11/01/2026 01:00–02:00 CST"]
    assert [(share.label, share.percent) for share in unmatched_hours(statement.record)] == [
        ("11/01/2026 01:00–02:00 CST", "25.0%")]


# The statement as a PDF.

def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_statement_pdf_has_the_totals_serials_and_digest_for_the_owner_and_the_public(
        client, site, trader, held, matched, outsider):
    batch = held(0, 600)
    consumption(site, trader, {0: 1000, 1: 50})
    statement = matched(site)
    reference = statement.reference
    client.force_login(trader)
    assert reverse("matching:statement_pdf", args=[reference]) in client.get(
        reverse("matching:statement", args=[reference])).content.decode()

    response = client.get(reverse("matching:statement_pdf", args=[reference]))

    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    text = pdf_text(response.content)
    assert statement_digest(statement) in text
    assert "57.1% (600 of 1,050 Wh)" in text and "1 of 2" in text  # matched in total; hours matched
    assert f"{batch.certificate.serial_base}-1 to 600" in text
    assert "2 hours of consumption not covered in full (450 Wh)" in text
    assert "2026-11-02: 2 hours, 450 Wh not matched: 00:00–02:00" in text
    assert statement_verification_url(statement) in text

    client.force_login(outsider)
    assert client.get(reverse("matching:statement_pdf", args=[reference])).status_code == 404
    client.logout()
    public = client.get(reverse("matching:verify_pdf", args=[reference]))
    assert public.status_code == 200 and statement_digest(statement) in pdf_text(public.content)
    assert reverse("matching:verify_pdf", args=[reference]) in client.get(
        reverse("matching:verify", args=[reference])).content.decode()


def test_a_private_retirements_statement_pdf_is_not_public(client, site, trader, held, matched, org):
    held(0, 100)
    consumption(site, trader, {0: 100})
    statement = matched(site)
    retirement_privacy_set(organization=org, user=trader, retirement=statement.retirement, private=True)
    assert client.get(reverse("matching:verify_pdf", args=[statement.reference])).status_code == 404


def test_the_hours_of_the_registrys_clock_follow_its_zone(settings):
    spring = [clock_hour(datetime.datetime(2026, 3, 8, 6, 30, tzinfo=datetime.UTC) + datetime.timedelta(hours=n))
              for n in range(23)]  # 8 March 2026 in Chicago: 23 hours, no 02:00
    assert [hour.start.astimezone(CHICAGO).hour for hour in spring[:4]] == [0, 1, 3, 4]
    assert all(earlier.end == later.start for earlier, later in zip(spring, spring[1:], strict=False))
    settings.TIME_ZONE = "Asia/Kolkata"  # UTC+05:30: its hours begin at half past in UTC
    assert clock_hour(datetime.datetime(2026, 11, 2, 6, 10, tzinfo=datetime.UTC)) == ProductionPeriod(
        datetime.datetime(2026, 11, 2, 5, 30, tzinfo=datetime.UTC), datetime.datetime(2026, 11, 2, 6, 30,
                                                                                      tzinfo=datetime.UTC))
    assert "runs past 12:00 IST" in consumption_interval_refusal(
        datetime.datetime(2026, 11, 2, 6, 15, tzinfo=datetime.UTC), datetime.datetime(2026, 11, 2, 6, 45,
                                                                                      tzinfo=datetime.UTC))
