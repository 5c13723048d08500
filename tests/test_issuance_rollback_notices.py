"""A rollback and a voiding told and counted: the owner's managers emailed (with the reason), its webhooks
told (a body valid against the published schema), the public statistics' issued total taken down, the
activity log and the admin's confirmation page."""

import re
from collections import Counter

import pytest
from django.core import mail
from jsonschema import Draft202012Validator

from certificates.models import CertificateBatch
from certificates.services import batches_void
from events.services import events_consume
from issuance.corrections import issuance_rollback
from issuance.models import GenerationReport
from issuance.services import issuance_run
from public_stats.models import MonthlyTotal
from public_stats.services import CONSUMER, public_stats_rebuild
from registry.models import Membership
from webhooks import services as webhook_services
from webhooks.models import EventType, WebhookDelivery
from webhooks.payloads import event_schema

from .factories import WebhookEndpointFactory, member
from .generation import last_month, report

pytestmark = pytest.mark.django_db(transaction=True)  # emails and deliveries are owed after the commit
REASON = "Meter M-17 read 10x high (the utility's letter of 3 Dec)."


@pytest.fixture(autouse=True)
def site(settings, monkeypatch):
    settings.SITE_URL = "https://registry.example"
    monkeypatch.setattr(webhook_services, "_deliveries_nudge", lambda: None)  # owed, not attempted


@pytest.fixture
def issuance(generator, account, staff, trader):
    generator.account = account
    generator.save(update_fields=["account"])
    (issued,) = issuance_run(user=staff, reports=[report(generator, last_month(1), "1250.4", trader)]).issued
    return issued


def totals() -> Counter:
    return +Counter({(row.month, row.activity, row.fuel, row.state): row.quantity
                     for row in MonthlyTotal.objects.all()})


def issued_total() -> int:
    return sum(MonthlyTotal.objects.filter(activity="issued").values_list("quantity", flat=True))


def test_the_owners_managers_are_emailed_the_rollback_with_its_reason(issuance, staff, org, manager, trader):
    mail.outbox.clear()

    issuance_rollback(user=staff, issuance=issuance, reason=REASON)

    (email,) = mail.outbox  # the managers only: traders are not asked to act on it
    assert email.to == [manager.email]
    assert email.subject.endswith(f"Issuance rolled back: M805 {issuance.period}, 1,250 certificates voided")
    body = re.sub(r"\s+", " ", email.body)
    assert f"{issuance.serial_range}" in body and "are voided" in body and REASON in body
    assert "generation report (1250.400 MWh) is submitted again" in body
    assert "https://registry.example/generation/" in body


def test_the_owners_webhooks_are_told_with_a_body_the_schema_describes(issuance, staff, org, account, outsider):
    hook = WebhookEndpointFactory(organization=org, event_types=[EventType.ISSUANCE_ROLLED_BACK])
    WebhookEndpointFactory(organization=org, event_types=[EventType.TRANSFER_PENDING])  # does not want it
    WebhookEndpointFactory(organization=outsider.memberships.get().organization)  # wants all, not concerned

    issuance_rollback(user=staff, issuance=issuance, reason=REASON)

    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.endpoint_id == hook.pk and delivery.event_type == "issuance.rolled_back"
    data = delivery.payload["data"]["issuance"]
    assert (data["generator"], data["period"], data["quantity"], data["reason"]) == (
        "M805", str(issuance.period), 1250, REASON)
    assert data["serial_number"] == issuance.serial_range and data["account"] == account.public_id
    assert list(Draft202012Validator(event_schema("issuance.rolled_back")).iter_errors(delivery.payload)) == []


def test_voided_certificates_are_emailed_and_told_too(issuance, staff, org, manager):
    hook = WebhookEndpointFactory(organization=org, event_types=[EventType.CERTIFICATES_VOIDED])
    batch = CertificateBatch.objects.get(certificate_id=issuance.certificate_id)
    mail.outbox.clear()

    batches_void(user=staff, organization=org, lines=[(batch.pk, 400)], reason=REASON)

    (email,) = mail.outbox
    assert email.to == [manager.email] and "400 certificates voided" in email.subject
    assert "-1 to 400" in email.body and REASON in email.body
    (delivery,) = WebhookDelivery.objects.filter(endpoint=hook)
    assert delivery.payload["data"]["voided"]["quantity"] == 400
    assert list(Draft202012Validator(event_schema("certificates.voided")).iter_errors(delivery.payload)) == []


def test_the_public_statistics_take_off_what_is_voided_and_a_rebuild_agrees(issuance, staff, org, generator,
                                                                             trader):
    events_consume(consumer=CONSUMER)
    assert issued_total() == 1250

    issuance_rollback(user=staff, issuance=issuance, reason=REASON)
    events_consume(consumer=CONSUMER)
    assert issued_total() == 0

    # Issued again, then 400 of it voided (a correction's debit from held certificates).
    (again,) = issuance_run(user=staff, reports=[GenerationReport.objects.get(pk=issuance.report_id)]).issued
    batch = CertificateBatch.objects.get(certificate_id=again.certificate_id)
    batches_void(user=staff, organization=org, lines=[(batch.pk, 400)], reason=REASON)
    events_consume(consumer=CONSUMER)
    assert issued_total() == 850
    counted = totals()

    MonthlyTotal.objects.all().delete()
    public_stats_rebuild()
    assert totals() == counted


def test_the_activity_log_says_what_was_rolled_back_and_voided(issuance, staff, org, manager, client):
    issuance_rollback(user=staff, issuance=issuance, reason=REASON)
    client.force_login(manager)

    page = re.sub(r"\s+", " ", client.get("/organization/activity/").content.decode())

    assert f"Registry staff rolled back the issuance of M805 {issuance.period} (1,250 certificates)" in page
    assert "Registry staff voided 1,250 certificates in account" in page
    assert REASON.replace("'", "&#x27;") in page


def test_the_admin_confirmation_page_shows_what_will_be_voided_then_rolls_back(issuance, staff, account, client):
    client.force_login(staff)
    url = f"/admin/issuance/issuance/{issuance.pk}/rollback/"

    page = re.sub(r"\s+", " ", client.get(url).content.decode())
    assert issuance.serial_range in page and account.public_id in page
    assert "<strong>1,250</strong>" in page and "0.400 MWh now; 0.000 MWh after the rollback" in page
    assert 'name="reason"' in page and "csrfmiddlewaretoken" in page

    assert client.post(url, {"reason": ""}).status_code == 200  # the reason is required: nothing happens
    assert CertificateBatch.objects.get(certificate_id=issuance.certificate_id).status == "active"
    answer = client.post(url, {"reason": REASON}, follow=True)
    assert "Rolled back M805" in answer.content.decode()
    assert CertificateBatch.objects.get(certificate_id=issuance.certificate_id).status == "voided"

    # Now refused, with the reason shown and no form to submit.
    page = re.sub(r"\s+", " ", client.get(url).content.decode())
    assert "was rolled back already" in page and 'name="reason"' not in page


def test_the_admin_rollback_page_is_for_staff_only(issuance, client, org):
    client.force_login(member(org, Membership.Role.MANAGER, email="boss@prairiewind.example"))
    answer = client.get(f"/admin/issuance/issuance/{issuance.pk}/rollback/")
    assert answer.status_code == 302 and "/admin/login/" in answer["Location"]
    answer = client.post(f"/admin/issuance/issuance/{issuance.pk}/rollback/", {"reason": REASON})
    assert CertificateBatch.objects.get(certificate_id=issuance.certificate_id).status == "active"
