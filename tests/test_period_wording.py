"""An hourly certificate's vintage as each face of the registry writes it (issue 33): people read
`11/01/2026 01:00 CDT–01:00 CST` on the dashboard, the wizard, a transfer's page, its email and PDF,
a retirement's statement and public page and the admin; the CSV downloads and a retirement's public
record keep ISO 8601 with offsets, which programs read back, and the API keeps its own ISO text."""

import csv
import datetime
import io
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from certificates.periods import ProductionPeriod
from retirements.statements import record_digest, retirement_record
from transfers.services import TransferLine

from .conftest import retire, send
from .factories import GeneratorFactory

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
# The autumn night's two one o'clocks: 01:00 CDT to 01:00 CST, then 01:00 CST to 02:00 CST.
FIRST_ONE, SECOND_ONE = ProductionPeriod(datetime.datetime(2026, 11, 1, tzinfo=CHICAGO),
                                         datetime.datetime(2026, 11, 2, tzinfo=CHICAGO)).hours[1:3]
FIRST_SHOWN, SECOND_SHOWN = "11/01/2026 01:00 CDT–01:00 CST", "11/01/2026 01:00–02:00 CST"
FIRST_ISO = "2026-11-01T01:00:00-05:00/2026-11-01T01:00:00-06:00"


@pytest.fixture
def hours(issue, org, account):
    """The two one o'clocks of a granular generator, 1,000,000 Wh each."""
    generator = GeneratorFactory(organization=org, code="H100", name="Lakeside Solar", granular=True,
                                 capacity_mw=Decimal(50), account=account)
    return [issue(1_000_000, period=period, generator=generator) for period in (FIRST_ONE, SECOND_ONE)]


def page_text(response) -> str:
    """A page's text as a reader sees it: without its tags (a table cell may put a vintage in two spans)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", response.content.decode()))


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_the_active_tab_words_each_hour_and_its_csv_keeps_iso_8601(signed_in, trader, hours):
    client = signed_in(trader)
    page = page_text(client.get(reverse("dashboard:certificates"), {"tab": "active"}))
    assert FIRST_SHOWN in page and SECOND_SHOWN in page
    assert FIRST_ISO not in page
    download = client.get(reverse("dashboard:download"), {"tab": "active"})
    rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
    assert sorted(row["Vintage"] for row in rows) == sorted([FIRST_ONE.data_text, SECOND_ONE.data_text])
    assert ProductionPeriod.parse(rows[0]["Vintage"]) in (FIRST_ONE, SECOND_ONE)  # a program reads it back


def test_a_transfer_its_email_and_its_summaries_word_the_hour_and_the_csv_keeps_iso(
        signed_in, trader, org, counterparty, counterparty_trader, hours, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # the emails consumer runs after commit
        transfer = send(hours[0], trader, org, counterparty, quantity=400_000)
    emails = [message.body for message in mail.outbox] + [
        alternative for message in mail.outbox for alternative, _ in getattr(message, "alternatives", [])]
    assert emails and all(FIRST_SHOWN in body for body in emails)
    client = signed_in(trader)
    assert FIRST_SHOWN in client.get(reverse("transfers:detail", args=[transfer.pk])).content.decode()
    assert FIRST_SHOWN in pdf_text(client.get(reverse("transfers:summary_pdf", args=[transfer.pk])))
    summary = b"".join(client.get(reverse("transfers:summary_csv", args=[transfer.pk])).streaming_content)
    assert FIRST_ISO in summary.decode("utf-8-sig") and FIRST_SHOWN not in summary.decode("utf-8-sig")


def test_the_wizard_reviews_the_hour_in_words(signed_in, trader, hours):
    page = page_text(signed_in(trader).get(reverse("transfers:new"), {"batch": hours[1].pk}, follow=True))
    assert SECOND_SHOWN in page


def test_a_retirement_record_keeps_iso_and_its_statement_and_public_page_word_it(
        client, signed_in, trader, org, retirement_account, hours):
    retirement = retire(organization=org, user=trader, account=retirement_account,
                        lines=[TransferLine(hours[0].pk, 250)]).retirement
    record = retirement_record(retirement)
    assert [batch["vintage"] for batch in record["batches"]] == [FIRST_ISO]  # the digest covers this text
    statement = pdf_text(signed_in(trader).get(reverse("retirements:statement_pdf", args=[retirement.transfer_id])))
    assert FIRST_SHOWN in statement and record_digest(record) in statement.replace(" ", "").replace("\n", "")
    client.logout()
    public = client.get(f"/verify/{retirement.reference}/").content.decode()
    assert FIRST_SHOWN in public and record_digest(record) in public


def test_the_admin_lists_certificates_by_the_worded_hour(admin_client, hours):
    page = admin_client.get(reverse("admin:certificates_certificate_changelist")).content.decode()
    assert FIRST_SHOWN in page and SECOND_SHOWN in page


def test_a_matching_statement_words_its_hours_as_every_page_does():
    """The autumn night's two one o'clocks differ on the statement (they read alike as `01:00–02:00` before);
    a chart of one day labels each bar by when its hour starts, and leaves the date to the tables."""
    from matching.statements import hour_shares, statement_chart

    night = ProductionPeriod(datetime.datetime(2026, 11, 1, tzinfo=CHICAGO),
                             datetime.datetime(2026, 11, 1, 3, tzinfo=CHICAGO)).hours
    record = {"hours": [{"start": hour.start.isoformat(), "end": hour.end.isoformat(), "consumption_wh": 1000,
                         "matched_before_wh": 0, "matched_wh": 500} for hour in night]}
    assert [share.label for share in hour_shares(record)] == [
        "11/01/2026 00:00–01:00 CDT", FIRST_SHOWN, SECOND_SHOWN, "11/01/2026 02:00–03:00 CST"]
    chart, charted = statement_chart(record)
    assert charted == "hour"
    assert [bar.label for bar in chart.bars] == ["00:00 CDT", "01:00 CDT", "01:00 CST", "02:00 CST"]
