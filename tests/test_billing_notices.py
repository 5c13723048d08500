"""Billing's notices: an invoice issued writes its ledger event (the activity log's line) and its
domain event; the emails consumer sends it to the billing contact, or to the managers when none is
named, as each chose; a reminder before the due date and an overdue notice after it are given once
each, and an overdue notice reaches every manager whatever they chose; an invoice paid in full is an
event once."""

import datetime
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from billing.models import FeeSchedule, Invoice, InvoiceNotice
from billing.services import (
    billing_overdue_run,
    credit_note_issue,
    invoice_reminders_run,
    invoices_issue,
    payment_record,
)
from billing.values import Period
from events.models import Event
from events.services import events_consume
from ledger.models import LedgerEvent
from registry.activity import event_sentence
from registry.models import EmailEvent, Membership, Organization

from .billing import LATER, at, consume, issued, standard_schedules
from .factories import member

pytestmark = pytest.mark.django_db(transaction=True)

JANUARY = Period(datetime.date(2090, 1, 1), datetime.date(2090, 2, 1))
DUE = datetime.date(2090, 3, 3)  # issued 1 February, 30 days


@pytest.fixture
def invoice(issue, no_wakeups, org, manager):
    """January 2090's invoice of `org`: $80.00 (5,000 RECs at $0.02, 1,000 free), due 3 March, with a 5%
    late fee and a reminder 7 days before it is due."""
    schedules = standard_schedules()
    FeeSchedule.objects.filter(pk__in=[schedule.pk for schedule in schedules]).update(late_fee_percent=Decimal("5"))
    issued(issue(5000).certificate, at(2090, 1, 5))
    consume()
    invoices_issue(period=JANUARY, now=at(2090, 2, 1, hour=1))
    return Invoice.objects.get(organization=org)


def emails(mailoutbox, text: str) -> list:
    """The emails sent so far whose subject holds `text` (the fixtures' issuance sends its own)."""
    events_consume(consumer="emails", now=LATER)
    return [message for message in mailoutbox if text in message.subject]


def pay(invoice, amount, staff):
    return payment_record(invoice=invoice, amount=Decimal(amount), received_on=datetime.date(2090, 2, 20),
                          method="bank_transfer", reference="WIRE-1", user=staff)


def test_an_issued_invoice_has_its_ledger_event_and_domain_event(invoice, org):
    (ledger,) = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.INVOICE_ISSUED)
    assert ledger.organization_id == org.pk
    assert event_sentence(ledger, org) == ("The registry issued invoice INV-000001 for January 2090: $80.00, "
                                           "due 2090-03-03.")
    (event,) = Event.objects.filter(kind=Event.Kind.INVOICE_ISSUED)
    assert (event.organization_id, event.subject_id, event.data) == (org.pk, invoice.pk, {"invoice": "INV-000001"})


def test_without_a_billing_contact_the_managers_who_want_it_are_emailed_the_invoice(
        invoice, org, manager, trader, mailoutbox):
    member(org, Membership.Role.MANAGER, email="quiet@prairiewind.example",
           email_opt_outs=[EmailEvent.INVOICE_ISSUED])
    (email,) = emails(mailoutbox, "Invoice INV-000001")
    assert email.to == ["manager@prairiewind.example"]
    assert email.subject == ("[Midwest Renewable Energy Registry] Invoice INV-000001 for January 2090: $80.00, "
                             "due 2090-03-03")
    body = email.body
    assert "Invoice INV-000001 for Prairie Wind Energy" in body and "Total: $80.00" in body
    assert f"/organization/billing/?organization={org.public_id}" in body
    assert f"/organization/billing/invoices/1.pdf?organization={org.public_id}" in body
    assert "Choose which emails you get" in body
    html = email.alternatives[0][0]
    assert "<strong>$80.00</strong>" in html and "INV-000001" in html
    ((filename, content, mime_type),) = email.attachments  # the PDF the Billing tab downloads
    assert (filename, mime_type) == ("INV-000001.pdf", "application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "invoice INV-000001" in text and "$80.00" in text


def test_a_named_billing_contact_gets_the_invoice_instead_of_the_managers(invoice, org, viewer, mailoutbox):
    Organization.objects.filter(pk=org.pk).update(billing_contact=viewer)
    (email,) = emails(mailoutbox, "Invoice INV-000001")
    assert email.to == [viewer.email]


def test_a_billing_contact_who_turned_it_off_gets_no_invoice(invoice, org, viewer, mailoutbox):
    viewer.email_opt_outs = [EmailEvent.INVOICE_ISSUED]
    viewer.save(update_fields=["email_opt_outs"])
    Organization.objects.filter(pk=org.pk).update(billing_contact=viewer)
    assert emails(mailoutbox, "Invoice INV-000001") == []


def test_a_reminder_is_given_once_within_the_schedules_days_before_the_due_date(invoice, org, manager, mailoutbox):
    assert invoice_reminders_run(today=DUE - datetime.timedelta(days=8)) == 0
    assert invoice_reminders_run(today=DUE - datetime.timedelta(days=7)) == 1
    assert invoice_reminders_run(today=DUE - datetime.timedelta(days=3)) == 0
    (notice,) = InvoiceNotice.objects.all()
    assert (notice.invoice, notice.kind) == (invoice, InvoiceNotice.Kind.DUE_SOON)
    (ledger,) = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.INVOICE_DUE_SOON)
    assert event_sentence(ledger, org) == "Reminded that invoice INV-000001 is due on 2090-03-03: $80.00 left to pay."
    (email,) = emails(mailoutbox, "Reminder")
    assert email.to == [manager.email]
    assert email.subject == ("[Midwest Renewable Energy Registry] Reminder: invoice INV-000001 is due on 2090-03-03 "
                             "($80.00 to pay)")
    assert "$80.00 of its $80.00 is left to pay" in email.body


def test_a_paid_invoice_is_not_reminded_and_no_reminder_when_the_schedule_says_none(invoice, staff):
    FeeSchedule.objects.update(reminder_days=0)
    assert invoice_reminders_run(today=DUE - datetime.timedelta(days=1)) == 0
    FeeSchedule.objects.update(reminder_days=7)
    pay(invoice, "80.00", staff)
    assert invoice_reminders_run(today=DUE - datetime.timedelta(days=1)) == 0


def test_an_overdue_notice_is_given_once_and_reaches_every_manager_whatever_they_chose(
        invoice, org, manager, viewer, mailoutbox):
    manager.email_opt_outs = [EmailEvent.INVOICE_OVERDUE]
    manager.save(update_fields=["email_opt_outs"])
    Organization.objects.filter(pk=org.pk).update(billing_contact=viewer)
    billing_overdue_run(today=DUE)  # due that day: not overdue yet
    assert not InvoiceNotice.objects.exists()
    billing_overdue_run(today=DUE + datetime.timedelta(days=1))
    billing_overdue_run(today=DUE + datetime.timedelta(days=2))
    assert InvoiceNotice.objects.filter(kind=InvoiceNotice.Kind.OVERDUE).count() == 1
    assert Event.objects.filter(kind=Event.Kind.INVOICE_OVERDUE, subject_id=invoice.pk).count() == 1
    (ledger,) = LedgerEvent.objects.filter(kind=LedgerEvent.Kind.INVOICE_OVERDUE)
    assert event_sentence(ledger, org) == ("Invoice INV-000001 is overdue (it was due on 2090-03-03): $80.00 left "
                                           "to pay.")
    (email,) = emails(mailoutbox, "Overdue")
    assert sorted(email.to) == sorted([manager.email, viewer.email])
    assert email.subject == ("[Midwest Renewable Energy Registry] Overdue: invoice INV-000001 was due on 2090-03-03 "
                             "($80.00 to pay)")
    assert "A late fee of 5% of its total, $4.00, is charged on your next invoice." in email.body
    assert "still unpaid 90 days after its due date, Prairie Wind Energy will be made inactive" in email.body


def test_a_billing_contact_who_is_no_manager_may_turn_the_overdue_notice_off(invoice, org, manager, viewer,
                                                                             mailoutbox):
    viewer.email_opt_outs = [EmailEvent.INVOICE_OVERDUE]
    viewer.save(update_fields=["email_opt_outs"])
    Organization.objects.filter(pk=org.pk).update(billing_contact=viewer)
    billing_overdue_run(today=DUE + datetime.timedelta(days=1))
    (email,) = emails(mailoutbox, "Overdue")
    assert email.to == [manager.email]


def test_an_invoice_paid_meanwhile_sends_no_overdue_email(invoice, staff, manager, mailoutbox):
    billing_overdue_run(today=DUE + datetime.timedelta(days=1))
    pay(invoice, "80.00", staff)
    assert emails(mailoutbox, "Overdue") == []


def test_an_invoice_is_paid_once_nothing_is_left_to_pay(invoice, staff):
    pay(invoice, "30.00", staff)
    assert not Event.objects.filter(kind=Event.Kind.INVOICE_PAID).exists()
    credit_note_issue(invoice=invoice, amount=Decimal("10.00"), reason="A test issuance", user=staff)
    pay(invoice, "40.00", staff)
    (event,) = Event.objects.filter(kind=Event.Kind.INVOICE_PAID)
    assert (event.subject_id, event.data) == (invoice.pk, {"invoice": "INV-000001"})


def test_staff_issue_a_credit_note_in_the_admin_through_its_service(invoice, admin_client):
    from django.urls import reverse

    from billing.selectors import invoice_balance

    path = reverse("admin:billing_creditnote_add")
    refused = admin_client.post(path, {"invoice": invoice.pk, "amount": "80.01", "reason": "Too much"})
    assert refused.status_code == 200
    assert "The amount $80.01 is more than the balance of INV-000001 ($80.00)." in refused.content.decode()
    response = admin_client.post(path, {"invoice": invoice.pk, "amount": "80.00", "reason": "A test issuance"})
    assert response.status_code == 302
    assert invoice_balance(invoice) == 0
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.CREDIT_NOTE_ISSUED).count() == 1
    assert Event.objects.filter(kind=Event.Kind.INVOICE_PAID, subject_id=invoice.pk).count() == 1
