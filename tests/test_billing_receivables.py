"""Billing's receivables: staff record payments (partial or whole, never more than the balance) and
credit notes; a late fee is charged once after the due date; an organization unpaid too long is
inactivated (it can sign in, look and pay, but not transfer, retire or upload, and every page says
why) until what it owes is paid."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.models import Charge, FeeSchedule, Invoice
from billing.selectors import invoice_balance, receivables_by_age
from billing.services import BillingRefused, billing_overdue_run, credit_note_issue, invoices_issue, payment_record
from billing.values import Period
from ledger.models import LedgerEvent
from mass_uploads.services import mass_upload_create
from registry.activity import LOGGED_KINDS, event_sentence
from registry.models import Organization
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, TransferRefused, transfer_create

from .billing import at, consume, issued, standard_schedules
from .conftest import ledger_state, retire

pytestmark = pytest.mark.django_db(transaction=True)

JANUARY = Period(datetime.date(2090, 1, 1), datetime.date(2090, 2, 1))
DUE = datetime.date(2090, 3, 3)  # issued 1 February, 30 days


@pytest.fixture
def invoice(issue, no_wakeups, org):
    """January 2090's invoice of `org`: $80.00 (5,000 RECs at $0.02, 1,000 free), due 3 March; the schedule
    adds a 5% late fee, inactivates 90 days past due and charges $25 to reactivate."""
    schedules = standard_schedules()
    FeeSchedule.objects.filter(pk__in=[schedule.pk for schedule in schedules]).update(
        late_fee_percent=Decimal("5"), inactivation_days=90, reactivation_fee=Decimal("25"))
    issued(issue(5000).certificate, at(2090, 1, 5))
    consume()
    invoices_issue(period=JANUARY, now=at(2090, 2, 1, hour=1))
    return Invoice.objects.get(organization=org)


def pay(invoice, amount, staff):
    return payment_record(invoice=invoice, amount=Decimal(amount), received_on=datetime.date(2090, 2, 20),
                          method="bank_transfer", reference="WIRE-1", user=staff)


def test_a_payment_may_be_partial_then_whole_but_never_more_than_the_balance(invoice, staff):
    pay(invoice, "30.00", staff)
    assert invoice_balance(invoice) == Decimal("50.00")
    with pytest.raises(BillingRefused, match=r"The amount \$50.01 is more than the balance of INV-000001 \(\$50.00\)"):
        pay(invoice, "50.01", staff)
    with pytest.raises(BillingRefused, match="more decimal places than USD has"):
        pay(invoice, "1.005", staff)
    pay(invoice, "50.00", staff)
    assert invoice_balance(invoice) == 0 and invoice.payments.count() == 2


def test_only_staff_record_payments(invoice, manager):
    with pytest.raises(ServiceError, match="Only registry staff"):
        pay(invoice, "1.00", manager)


def test_a_credit_note_corrects_an_invoice_that_itself_never_changes(invoice, staff):
    credit_note_issue(invoice=invoice, amount=Decimal("20.00"), reason="Issuance of 5 January was a test", user=staff)
    assert invoice_balance(invoice) == Decimal("60.00")
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("80.00")
    with pytest.raises(BillingRefused, match="Say why"):
        credit_note_issue(invoice=invoice, amount=Decimal("1.00"), reason=" ", user=staff)


def test_a_late_fee_is_charged_once_after_the_due_date(invoice):
    assert billing_overdue_run(today=DUE) == (0, 0)  # due that day: not late yet
    assert billing_overdue_run(today=DUE + datetime.timedelta(days=1)) == (1, 0)
    assert billing_overdue_run(today=DUE + datetime.timedelta(days=2)) == (0, 0)
    (fee,) = Charge.objects.filter(kind="late_fee")
    assert fee.amount == Decimal("4.00") and fee.description == "Late fee on INV-000001: 5% of $80.00"
    assert fee.invoice is None  # it goes on the next invoice


def test_receivables_are_grouped_by_days_past_due(invoice, org):
    (row,) = receivables_by_age(DUE + datetime.timedelta(days=45))
    assert row["organization"] == org and row["buckets"][2] == Decimal("80.00") and row["total"] == Decimal("80.00")


@pytest.fixture
def inactive(invoice, org, monkeypatch):
    monkeypatch.setattr("billing.selectors.billing_today", lambda: DUE + datetime.timedelta(days=91))
    assert billing_overdue_run(today=DUE + datetime.timedelta(days=90)) == (1, 0)
    assert billing_overdue_run(today=DUE + datetime.timedelta(days=91)) == (0, 1)
    org.refresh_from_db()
    assert org.billing_hold.startswith(f"{org.name} is inactive: invoice INV-000001 (due 2090-03-03) is unpaid.")
    return org


def test_an_inactive_organization_cannot_transfer_retire_or_upload(inactive, trader, batch, second_account,
                                                                   retirement_account, counterparty, mass_media):
    before = ledger_state()
    for destination in (Destination.internal(second_account), Destination.to_organization(counterparty)):
        with pytest.raises(TransferRefused, match="is inactive: invoice INV-000001"):
            transfer_create(organization=inactive, user=trader, lines=[TransferLine(batch.pk, 10)],
                            destination=destination)
    with pytest.raises(TransferRefused, match="is inactive"):
        retire(organization=inactive, user=trader, lines=[TransferLine(batch.pk, 10)], account=retirement_account)
    with pytest.raises(ServiceError, match="is inactive"):
        mass_upload_create(organization=inactive, user=trader, upload=None)
    assert ledger_state() == before and not Transfer.objects.exclude(status="draft").exists()


def test_an_inactive_organization_signs_in_and_reads_and_every_page_says_why(inactive, trader, client):
    client.force_login(trader)
    for page in ("dashboard:certificates", "accounts:list"):
        response = client.get(reverse(page))
        assert response.status_code == 200
        assert "Transfers, retirements, uploads and issuance are stopped." in response.content.decode()
        assert "invoice INV-000001 (due 2090-03-03) is unpaid" in response.content.decode()


def test_paying_what_it_owes_reactivates_it(inactive, staff, trader, batch, second_account):
    pay(Invoice.objects.get(organization=inactive), "79.00", staff)
    assert Organization.objects.get(pk=inactive.pk).billing_hold  # a dollar still owed
    pay(Invoice.objects.get(organization=inactive), "1.00", staff)
    inactive.refresh_from_db()
    assert inactive.billing_hold == ""
    (fee,) = Charge.objects.filter(organization=inactive, kind="reactivation")
    assert fee.amount == Decimal("25.00") and fee.invoice is None
    transfer_create(organization=inactive, user=trader, lines=[TransferLine(batch.pk, 10)],
                    destination=Destination.internal(second_account))


def test_payments_credits_and_the_hold_are_ledger_events_the_activity_log_words(inactive, staff):
    invoice = Invoice.objects.get(organization=inactive)
    credit_note_issue(invoice=invoice, amount=Decimal("4.00"), reason="Two test issuances", user=staff)
    pay(invoice, "76.00", staff)
    inactive.refresh_from_db()
    kinds = [LedgerEvent.Kind.BILLING_HOLD_SET, LedgerEvent.Kind.CREDIT_NOTE_ISSUED, LedgerEvent.Kind.PAYMENT_RECORDED,
             LedgerEvent.Kind.BILLING_HOLD_LIFTED]
    events = list(LedgerEvent.objects.filter(organization=inactive, kind__in=kinds).order_by("pk"))
    assert [event.kind for event in events] == kinds
    assert [event.actor for event in events] == [None, staff, staff, staff]  # beat sets the hold
    assert (events[2].before["balance"], events[2].after["balance"]) == ("76.00", "0.00")
    assert [event_sentence(event, inactive) for event in events] == [
        "Prairie Wind Energy is inactive: invoice INV-000001 (due 2090-03-03) is unpaid. It can still sign in, "
        "look and pay; paying what it owes makes it active again.".replace("Prairie Wind Energy", inactive.name),
        "Registry staff credited $4.00 on invoice INV-000001: Two test issuances",
        "Registry staff recorded a payment of $76.00 on invoice INV-000001; $0.00 left to pay.",
        "Active again: what was owed past due is paid."]
    assert all(event.kind in LOGGED_KINDS for event in events)
