"""Billing's webhooks: an invoice issued, paid and overdue is owed, once, to each active endpoint of
the organization it bills that wants it, with the invoice as the API answers it; a real receiver
verifies the signed delivery with standardwebhooks."""

import datetime
import json
from decimal import Decimal

import pytest

from billing.models import FeeSchedule, Invoice
from billing.services import billing_overdue_run, invoices_issue, payment_record
from billing.values import Period
from events.services import events_consume
from webhooks import services as webhook_services
from webhooks.models import EventType, WebhookDelivery
from webhooks.services import webhook_deliveries_send

from .billing import LATER, at, consume, issued, standard_schedules
from .factories import GeneratorFactory
from .test_webhooks import endpoint, every_body_matches_the_published_schema, received_event
from .webhook_receiver import Receiver

pytestmark = pytest.mark.django_db(transaction=True)

JANUARY = Period(datetime.date(2090, 1, 1), datetime.date(2090, 2, 1))
DUE = datetime.date(2090, 3, 3)


@pytest.fixture(autouse=True)
def webhook_settings(settings, monkeypatch):
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1"]
    settings.SITE_URL = "https://registry.example"
    monkeypatch.setattr(webhook_services, "_deliveries_nudge", lambda: None)  # the test sends them itself


@pytest.fixture
def invoices(issue, no_wakeups, org, counterparty, counterparty_account):
    """January 2090's invoices: `org`'s $80.00 (5,000 RECs, 1,000 free) and the counterparty's $20.00."""
    standard_schedules()
    FeeSchedule.objects.update(late_fee_percent=Decimal("5"))
    issued(issue(5000).certificate, at(2090, 1, 5))
    theirs = issue(2000, generator=GeneratorFactory(organization=counterparty, code="C100"),
                   account=counterparty_account).certificate
    issued(theirs, at(2090, 1, 6))
    consume()
    invoices_issue(period=JANUARY, now=at(2090, 2, 1, hour=1))
    return Invoice.objects.get(organization=org), Invoice.objects.get(organization=counterparty)


def owed() -> list[WebhookDelivery]:
    events_consume(consumer="webhooks", now=LATER)
    return list(WebhookDelivery.objects.filter(event_type__startswith="invoice.").order_by("pk"))


def test_an_issued_invoice_is_owed_to_its_organizations_endpoints_that_want_it(invoices, org, counterparty):
    ours, _ = invoices
    hook = endpoint(org, EventType.INVOICE_ISSUED)
    endpoint(org, EventType.INVOICE_PAID)  # does not want it
    endpoint(org, EventType.INVOICE_ISSUED, is_active=False)  # disabled
    theirs = endpoint(counterparty, EventType.INVOICE_ISSUED)
    deliveries = owed()
    assert sorted(d.endpoint_id for d in deliveries) == sorted([hook.pk, theirs.pk])
    (delivery,) = [d for d in deliveries if d.endpoint_id == hook.pk]
    assert delivery.payload["type"] == "invoice.issued" and delivery.payload["organization"] == org.public_id
    assert delivery.payload["data"]["invoice"] == {
        "number": 1, "reference": "INV-000001",
        "period_start": "2090-01-01", "period_end": "2090-02-01", "issued_at": delivery.payload["created_at"],
        "due_on": "2090-03-03", "currency": "USD", "total": "80.00", "balance": "80.00", "status": "due",
        "bill_to": ours.bill_to, "url": f"https://registry.example/organization/billing/?organization={org.public_id}"}
    every_body_matches_the_published_schema(deliveries)
    assert owed() == deliveries  # consumed: nothing is owed twice


def test_an_overdue_then_paid_invoice_is_told_each_once(invoices, org, staff):
    ours, _ = invoices
    endpoint(org, EventType.INVOICE_OVERDUE, EventType.INVOICE_PAID)
    billing_overdue_run(today=DUE + datetime.timedelta(days=1))
    billing_overdue_run(today=DUE + datetime.timedelta(days=2))
    payment_record(invoice=ours, amount=Decimal("30.00"), received_on=DUE, method="card", reference="", user=staff)
    payment_record(invoice=ours, amount=Decimal("50.00"), received_on=DUE, method="card", reference="", user=staff)
    deliveries = owed()
    assert [d.event_type for d in deliveries] == [EventType.INVOICE_OVERDUE, EventType.INVOICE_PAID]
    overdue, paid = (d.payload["data"]["invoice"] for d in deliveries)
    # each as it is when the event is fanned out: both after the payments here
    assert (paid["status"], paid["balance"]) == ("paid", "0.00")
    assert overdue["reference"] == ours.reference
    every_body_matches_the_published_schema(deliveries)


def test_a_real_receiver_verifies_the_signed_invoice_delivery(invoices, org):
    receiver = Receiver()
    try:
        hook = endpoint(org, EventType.INVOICE_ISSUED, url=receiver.url)
        (delivery,) = owed()
        assert webhook_deliveries_send() == 1
        (request,) = receiver.requests
        assert request["headers"]["webhook-id"] == str(delivery.event_id)
        assert json.loads(request["body"]) == delivery.payload
        assert received_event(hook.secret, request) == delivery.payload  # standardwebhooks verifies and parses it
        assert received_event(hook.secret, request | {"body": request["body"] + b" "}) is None
    finally:
        receiver.stop()
