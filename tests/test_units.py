"""Quantities across units (#33): a monthly REC is one MWh, an hourly certificate one Wh. Wherever
certificates of both are added up (the public statistics, billing, the annual retirement report, the
account balances), 1,000,000 Wh of an hour and 5 MWh make 6 MWh, or "5 MWh and 1,000,000 Wh"; never
"1,000,005"."""

import csv
import datetime
import io
import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse
from rest_framework.test import APIClient

from billing.models import Charge, Invoice
from billing.services import invoices_issue
from billing.values import Period
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from certificates.units import HeldOf, MWhOf, Quantities, Unit, mwh, mwh_plain, mwh_text, quantities_of, unit_of
from events.models import Event
from events.services import event_record, events_consume
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from public_stats.services import CONSUMER as PUBLIC_STATS
from retirements.selectors import retirement_report
from transfers.values import TransferLine

from .billing import at, consume, issued
from .conftest import retire
from .factories import GeneratorFactory

pytestmark = pytest.mark.django_db(transaction=True)

CHICAGO = ZoneInfo("America/Chicago")
HOUR = ProductionPeriod.interval(datetime.datetime(2026, 12, 1, 10, tzinfo=CHICAGO),
                                 datetime.datetime(2026, 12, 1, 11, tzinfo=CHICAGO))


@pytest.fixture
def granular(org, account):
    """A granular generator of the same fuel and state as the monthly `generator` (wind, MN)."""
    return GeneratorFactory(organization=org, code="H100", name="Prairie Ridge Hourly", granular=True,
                            capacity_mw=Decimal("5000"), account=account, eligibilities=["MN RES", "Green-e"])


@pytest.fixture
def mixed(issue, granular, no_wakeups):
    """5 monthly RECs (5 MWh) and one hour's 1,250,000 Wh (1.25 MWh), both held in `account`."""
    return {"monthly": issue(5, period=ProductionPeriod.month(2026, 10)),
            "hourly": issue(1_250_000, period=HOUR, generator=granular)}


# The rule --------------------------------------------------------------------------------------------

def test_an_hours_wh_are_an_exact_decimal_of_mwh():
    assert unit_of(HOUR) == Unit.WH and unit_of(ProductionPeriod.month(2026, 1)) == Unit.MWH
    assert mwh(1_000_000, Unit.WH) == Decimal("1") and mwh(1, Unit.WH) == Decimal("0.000001")
    assert mwh(5, Unit.MWH) == Decimal("5")
    assert mwh(2**63 - 1, Unit.WH) == Decimal("9223372036854.775807")  # the largest quantity, to the Wh
    with pytest.raises(TypeError):
        mwh(1.5, Unit.WH)


def test_a_sum_across_units_is_in_mwh_or_kept_per_unit():
    both = Quantities.of(5, Unit.MWH) + Quantities.of(1_000_000, Unit.WH)
    assert both.mwh == Decimal("6") and both.text == "5 MWh and 1,000,000 Wh"
    assert Quantities.of(1_000_000, Unit.WH).text == "1,000,000 Wh" and Quantities().text == "0 MWh"
    assert (mwh_text(Decimal("1234.500000")), mwh_plain(Decimal("1234.500000"))) == ("1,234.5", "1234.5")
    assert (mwh_text(Decimal("1000.000000")), mwh_plain(Decimal("1000.000000"))) == ("1,000", "1000")


def test_the_databases_sums_follow_the_same_rule(mixed):
    batches = CertificateBatch.objects.filter(pk__in=[batch.pk for batch in mixed.values()])
    summed = batches.aggregate(mwh=Sum(MWhOf()), recs=Sum(HeldOf(Unit.MWH)), wh=Sum(HeldOf(Unit.WH)))
    assert summed == {"mwh": Decimal("6.25"), "recs": 5, "wh": 1_250_000}
    assert sum(mwh(batch.quantity, unit_of(batch.certificate.period)) for batch in batches) == summed["mwh"]
    assert quantities_of(batches) == Quantities(5, 1_250_000)  # the Active tab's totals, per unit


# The public statistics -------------------------------------------------------------------------------

def test_the_statistics_page_csv_and_api_add_an_hours_wh_as_mwh(mixed, client):
    events_consume(consumer=PUBLIC_STATS)
    html = client.get(reverse("public_stats:statistics"), {"by": "fuel"}).content.decode()
    assert "<strong>6.25</strong> MWh issued in all" in html
    assert '<tr><td>Wind</td><td class="num">6.25</td></tr>' in html
    assert "1,250,005" not in html
    download = client.get(reverse("public_stats:statistics_csv"), {"by": "fuel"})
    lines = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert lines[1:] == [["issued", "fuel", "wind", "Wind", "6.25"]]
    answer = APIClient().get(reverse("api:public-statistics"), {"by": "eligibility"}).json()
    assert answer["total"] == "6.25"
    assert {row["key"]: row["quantity"] for row in answer["rows"]} == {"Green-e": "6.25", "MN RES": "6.25"}


def test_an_hourly_retirement_counts_its_mwh_retired(mixed, org, trader, retirement_account, client):
    retire(organization=org, user=trader, account=retirement_account,
           lines=[TransferLine(mixed["monthly"].pk, 2), TransferLine(mixed["hourly"].pk, 500_000)])
    events_consume(consumer=PUBLIC_STATS)
    html = client.get(reverse("public_stats:statistics"), {"activity": "retired"}).content.decode()
    assert "<strong>2.5</strong> MWh retired in all" in html


# Billing ---------------------------------------------------------------------------------------------

def test_an_hourly_certificate_is_charged_for_its_mwh_not_a_rec_each(schedules, mixed, org):
    issued(mixed["monthly"].certificate, at(2090, 1, 5))  # 5 RECs: within the year's 1,000 free
    issued(mixed["hourly"].certificate, at(2090, 1, 6))
    consume()
    monthly, hourly = Charge.objects.order_by("occurred_at")
    assert (monthly.quantity, monthly.free_quantity, monthly.amount) == (5, 5, Decimal("0.00"))
    assert (hourly.quantity, hourly.free_quantity, hourly.amount) == (Decimal("1.25"), Decimal("1.25"), 0)
    assert hourly.description == "1,250,000 Wh (1.25 MWh) × $0.02, all within the 1,000 free in 2090"


def test_an_invoice_charges_a_retirement_of_both_units_in_mwh(schedules, mixed, org, trader, retirement_account):
    made = retire(organization=org, user=trader, account=retirement_account,
                  lines=[TransferLine(mixed["monthly"].pk, 5), TransferLine(mixed["hourly"].pk, 1_000_000)])
    event_record(kind=Event.Kind.RETIREMENT_MADE, organization_id=org.pk, subject_id=made.pk,
                 occurred_at=at(2090, 1, 20))  # as if it happened under the schedule: $0.01 a MWh, none free
    consume()
    (charge,) = Charge.objects.filter(kind="retirement", occurred_at=at(2090, 1, 20))
    assert charge.quantity == Decimal("6") and charge.amount == Decimal("0.06")
    assert charge.description == "5 RECs and 1,000,000 Wh (6 MWh) × $0.01"
    invoices_issue(period=Period(datetime.date(2090, 1, 1), datetime.date(2090, 2, 1)), now=at(2090, 2, 1, hour=1))
    invoice = Invoice.objects.get(organization=org)
    assert invoice.total == Decimal("0.06")
    rows = list(csv.reader(io.StringIO(b"".join(
        signed_in_csv(org, trader, invoice)).decode())))
    assert rows[0][4:6] == ["MWh", "Free MWh"] and [row[4] for row in rows[1:]] == ["6"]


def signed_in_csv(org, trader, invoice):
    from billing.documents import CSV_HEADER, invoice_csv_rows
    from utilities.csv_export import csv_response

    return csv_response("invoice.csv", CSV_HEADER, invoice_csv_rows(invoice)).streaming_content


# The annual retirement report (a regulator's compliance totals) ---------------------------------------

def test_the_annual_retirement_report_totals_mwh(mixed, org, trader, retirement_account):
    retire(organization=org, user=trader, account=retirement_account, compliance_period=2026,
           lines=[TransferLine(mixed["monthly"].pk, 5), TransferLine(mixed["hourly"].pk, 1_000_000)])
    year = datetime.date.today().year
    report = retirement_report(org, year)
    assert report.quantity == Decimal("6") and [row["quantity"] for row in report.rows] == [Decimal("6")]


# The account balances and the mass transfer emails: kept per unit -------------------------------------

def test_the_accounts_page_keeps_each_balance_per_unit(mixed, org, trader, account, signed_in):
    html = signed_in(trader).get(reverse("accounts:list")).content.decode()
    row = re.search(rf"<tr>\s*<td data-label=\"Account ID\"><code class=\"org-id\">{account.public_id}</code>"
                    r".*?</tr>", html, re.S).group(0)
    assert '<td class="num third" data-label="Balance">5 MWh and 1,250,000 Wh</td>' in row
    assert '<td class="num third" data-label="Pending">0 MWh</td>' in row
    assert "1,250,005" not in html


def test_a_mass_transfer_email_counts_the_certificates_of_each_unit(
        mixed, org, trader, counterparty, counterparty_trader, mass_media, settings):
    settings.SITE_URL = "https://registry.example"
    content = ("Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
               f"{mixed['monthly'].serial_number},5,{counterparty.public_id},,Months\r\n"
               f"{mixed['hourly'].serial_number},1000000,{counterparty.public_id},,An hour\r\n")
    mail.outbox.clear()
    made = mass_upload_create(organization=org, user=trader, kind="transfer",
                              upload=SimpleUploadedFile("mixed.csv", content.encode()))
    made.refresh_from_db()
    assert made.status == MassTransferUpload.Status.COMPLETED, made.errors
    events_consume(consumer="emails")  # `mixed` wakes no consumer: the test runs them
    [email] = [message for message in mail.outbox if counterparty_trader.email in message.to]
    assert "2 transfers, 5 certificates (MWh) and 1,000,000 hourly certificates (Wh) in all" in email.body
    months, hour = made.transfers.order_by("pk")
    assert f"  Transfer {months.pk}: 5 certificates in 1 batch. Notes: Months\n" in email.body
    assert f"  Transfer {hour.pk}: 1,000,000 hourly certificates (Wh) in 1 batch. Notes: An hour\n" in email.body
    assert "1,000,005" not in email.body and "1,000,005" not in email.alternatives[0][0]


# An issuance run's hourly certificates (its event names the months' reports) --------------------------

def test_an_issuance_runs_hourly_certificates_are_charged_and_counted_in_mwh(upload_run, granular, staff):
    from issuance.models import GenerationReport
    from issuance.services import issuance_run
    from public_stats.selectors import statistics_total
    from public_stats.values import StatisticsQuery

    from .billing import schedule
    from .test_hourly import hours_of, rows

    schedule(datetime.date(2020, 1, 1), issuance=("0.02", 0))
    day = hours_of(datetime.date(2020, 6, 1))
    assert upload_run(rows(granular, day, wh=lambda index: 1_000_000 * index + 7)).status == "completed"
    issuance_run(user=staff, reports=GenerationReport.objects.live().filter(generator=granular))
    consume()
    events_consume(consumer=PUBLIC_STATS)
    wh = sum(1_000_000 * index + 7 for index in range(len(day)))  # 276,000,168 Wh
    (charge,) = Charge.objects.all()
    assert charge.quantity == mwh(wh, Unit.WH) == Decimal("276.000168")
    assert charge.description == "276,000,168 Wh (276.000168 MWh) × $0.02" and charge.amount == Decimal("5.52")
    assert statistics_total(StatisticsQuery()) == Decimal("276.000168")
