"""Billing's invoices: one per organization and period with charges, exactly once (two runs at once
issue one), numbered without gaps; a charge consumed after its period's invoice goes on the next one;
an issued invoice never changes; its PDF and CSV say what each line charges."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import InternalError, ProgrammingError, connection, transaction
from pypdf import PdfReader

from billing.documents import CSV_HEADER, invoice_csv_rows, invoice_pdf
from billing.models import Charge, Invoice, TierFee
from billing.services import invoices_issue
from billing.values import Period, period_of
from registry.models import Organization
from utilities.csv_export import csv_rows

from .billing import at, consume, issued
from .factories import GeneratorFactory
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)

JANUARY = Period(datetime.date(2090, 1, 1), datetime.date(2090, 2, 1))
FEBRUARY = Period(datetime.date(2090, 2, 1), datetime.date(2090, 3, 1))
EARLY_FEBRUARY = at(2090, 2, 1, hour=1)
EARLY_MARCH = at(2090, 3, 1, hour=1)


@pytest.fixture
def their_certificate(issue, counterparty, counterparty_account, no_wakeups):
    generator = GeneratorFactory(organization=counterparty, code="C100")
    return issue(2000, generator=generator, account=counterparty_account).certificate


def test_a_period_is_invoiced_once_per_organization_with_numbers_without_gaps(
        schedules, certificate, their_certificate, org, counterparty):
    issued(certificate, at(2090, 1, 5))
    issued(certificate, at(2090, 1, 20))
    issued(their_certificate, at(2090, 1, 31, hour=23))
    issued(certificate, at(2090, 2, 1, hour=0))  # February's: waits for February's invoice
    consume()
    assert invoices_issue(period=JANUARY, now=EARLY_FEBRUARY) == 2
    assert invoices_issue(period=JANUARY, now=EARLY_FEBRUARY) == 0
    ours, theirs = Invoice.objects.get(organization=org), Invoice.objects.get(organization=counterparty)
    assert sorted([ours.number, theirs.number]) == [1, 2]
    assert ours.total == Decimal("80.00") + Decimal("100.00") and theirs.total == Decimal("20.00")
    assert ours.total == sum(charge.amount for charge in ours.charges.all())
    assert ours.charges.count() == 2 and ours.due_on == datetime.date(2090, 3, 3)
    assert Charge.objects.filter(invoice__isnull=True).count() == 1
    assert invoices_issue(period=FEBRUARY, now=EARLY_MARCH) == 1
    assert Invoice.objects.get(period_start=FEBRUARY.start).number == 3


def test_two_runs_at_once_issue_each_invoice_once(schedules, certificate, their_certificate):
    issued(certificate, at(2090, 1, 5))
    issued(their_certificate, at(2090, 1, 6))
    consume()
    counts = at_once(lambda: invoices_issue(period=JANUARY, now=EARLY_FEBRUARY))
    assert sorted(counts) == [0, 2]
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2]


def test_a_charge_consumed_after_its_periods_invoice_goes_on_the_next(schedules, certificate, org):
    issued(certificate, at(2090, 1, 5))
    consume()
    invoices_issue(period=JANUARY, now=EARLY_FEBRUARY)
    issued(certificate, at(2090, 1, 30))  # happened in January, recorded (committed) after its invoice
    consume()
    late = Charge.objects.get(occurred_at=at(2090, 1, 30))
    assert late.invoice is None and late.unit_price == Decimal("0.02")  # January's price
    invoices_issue(period=FEBRUARY, now=EARLY_MARCH)
    late.refresh_from_db()
    assert late.invoice.period_start == FEBRUARY.start


def test_an_issued_invoice_and_its_lines_never_change(schedules, certificate):
    issued(certificate, at(2090, 1, 5))
    consume()
    invoices_issue(period=JANUARY, now=EARLY_FEBRUARY)
    changes = ["UPDATE billing_invoice SET total = 0", "DELETE FROM billing_invoice",
               "UPDATE billing_charge SET amount = 0", "UPDATE billing_charge SET invoice_id = NULL",
               "DELETE FROM billing_charge"]
    for change in changes:
        with pytest.raises((InternalError, ProgrammingError)), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(change)
    assert Invoice.objects.get().total == Decimal("80.00")


def test_the_yearly_subscription_is_charged_once_at_each_organizations_tier(
        schedules, certificate, their_certificate, org, counterparty):
    TierFee.objects.create(schedule=schedules[0], tier=Organization.Tier.SMALL, annual_amount=Decimal("50"))
    TierFee.objects.create(schedule=schedules[0], tier=Organization.Tier.LARGE, annual_amount=Decimal("2200"))
    Organization.objects.filter(pk=counterparty.pk).update(billing_tier=Organization.Tier.LARGE)
    issued(certificate, at(2090, 1, 5))
    consume()
    invoices_issue(period=JANUARY, now=EARLY_FEBRUARY)
    invoices_issue(period=FEBRUARY, now=EARLY_MARCH)
    subscriptions = {charge.organization_id: charge for charge in Charge.objects.filter(kind="subscription")}
    assert subscriptions[org.pk].amount == Decimal("50.00")
    assert subscriptions[counterparty.pk].amount == Decimal("2200.00")
    assert all(charge.invoice.period_start == JANUARY.start for charge in subscriptions.values())
    assert Invoice.objects.get(organization=counterparty).total == Decimal("2200.00")


def test_the_pdf_and_csv_say_how_each_line_was_computed_and_which_event_it_charges(
        schedules, certificate, org, settings):
    settings.REGISTRY_ADDRESS = "100 Main Street; Saint Paul, MN 55101"
    issued(certificate, at(2090, 1, 5))
    consume()
    invoices_issue(period=JANUARY, now=EARLY_FEBRUARY)
    invoice = Invoice.objects.get()
    charge = invoice.charges.get()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(invoice_pdf(invoice))).pages)
    for expected in ["INV-000001", "January 2090", "Saint Paul, MN 55101", str(org),
                     "2090-03-03", "5,000 RECs × $0.02, first 1,000 of 2090 free", f"event {charge.event_id}",
                     "$80.00"]:
        assert expected in text
    rows = list(csv.reader(io.StringIO("".join(csv_rows(CSV_HEADER, invoice_csv_rows(invoice))))))
    assert rows[0] == CSV_HEADER
    assert rows[1][0] == "INV-000001" and rows[1][4:10] == ["5000", "1000", "$0.02", "80.00", "USD",
                                                           str(charge.event_id)]


def test_periods_are_monthly_or_quarterly():
    assert period_of(datetime.date(2090, 5, 31)) == Period(datetime.date(2090, 5, 1), datetime.date(2090, 6, 1))
    assert period_of(datetime.date(2090, 5, 31), 3) == Period(datetime.date(2090, 4, 1), datetime.date(2090, 7, 1))
    assert period_of(datetime.date(2090, 12, 2), 3).text == "October to December 2090"
