"""What users see of corrections: the month's page (its corrections and their effect, the managers'
request form with evidence), the Generation page's list, the upload's page, staff's queue in the
admin (approve, refuse, with a note), and the owner's managers' emails of each decision."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from events.services import events_consume
from issuance.adjustments import correction_refuse, correction_request, corrections_approve
from issuance.models import Correction, Issuance
from issuance.services import issuance_run

from .conftest import signed_in_as
from .generation import last_month, report

MONTH = last_month(2)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.SITE_URL = "https://registry.example"


@pytest.fixture
def issuance(generator, account, staff, trader) -> Issuance:
    generator.account = account
    generator.save(update_fields=["account"])
    issuance_run(user=staff, reports=[report(generator, MONTH, "100.4", trader)])
    return Issuance.objects.get()


def page(user, issuance):
    return signed_in_as(user).get(reverse("issuance:issuance", args=[issuance.pk]))


def test_a_manager_requests_a_correction_with_evidence_on_the_months_page(issuance, manager):
    client = signed_in_as(manager)
    url = reverse("issuance:issuance", args=[issuance.pk])
    assert "Request a correction" in client.get(url).text

    response = client.post(url, {"mwh": "1,112.9", "note": "The meter was read twice.",
                                 "evidence": SimpleUploadedFile("statement.pdf", b"%PDF evidence")}, follow=True)

    correction = Correction.objects.get()
    assert (correction.mwh_before, correction.mwh_after, correction.requested_by) == (
        Decimal("100.4"), Decimal("1112.9"), manager)
    text = response.text
    assert "was sent to the registry" in text and "Requested" in text and "+1012.500" in text
    assert "awaiting the registry&#x27;s decision" in text or "awaiting the registry's decision" in text
    evidence = client.get(reverse("issuance:correction_evidence", args=[correction.pk]))
    assert b"".join(evidence.streaming_content) == b"%PDF evidence"


def test_a_bad_total_is_refused_on_the_form_and_nothing_is_requested(issuance, manager):
    response = signed_in_as(manager).post(reverse("issuance:issuance", args=[issuance.pk]),
                                          {"mwh": "-5", "note": "x"})
    assert response.status_code == 400 and "cannot be negative" in response.text
    response = signed_in_as(manager).post(reverse("issuance:issuance", args=[issuance.pk]),
                                          {"mwh": "100.4", "note": "same"})
    assert response.status_code == 400 and "nothing to correct" in response.text
    assert not Correction.objects.exists()


def test_a_trader_sees_the_corrections_but_cannot_request_and_an_outsider_gets_a_404(issuance, trader, outsider,
                                                                                     manager):
    correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                       mwh=Decimal("90"), note="Meter replaced.")
    response = page(trader, issuance)
    assert "90.000" in response.text and "Request a correction" not in response.text
    post = signed_in_as(trader).post(reverse("issuance:issuance", args=[issuance.pk]), {"mwh": "80", "note": "x"})
    assert post.status_code == 403
    assert page(outsider, issuance).status_code == 404
    correction = Correction.objects.get()
    assert signed_in_as(outsider).get(reverse("issuance:correction_evidence", args=[correction.pk])).status_code == 404


def test_the_generation_page_and_the_months_page_show_each_correction_and_its_effect(issuance, manager, staff):
    first = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                               mwh=Decimal("112.9"), note="Meter statement.")
    corrections_approve(user=staff, corrections=[first])
    second = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                                mwh=Decimal("105"), note="Read again.")
    corrections_approve(user=staff, corrections=[second])

    month_page = page(manager, issuance).text
    assert "12 certificates issued" in month_page  # 0.4 + 12.5 = 12.9
    first.refresh_from_db()
    assert first.serial_range in month_page
    assert "7 certificates owed from the next issuances" in month_page  # -7.9 + 0.9 carried: -7
    assert "105.000 MWh" in month_page  # the month's total as corrected
    listing = signed_in_as(manager).get(reverse("issuance:reports")).text
    assert listing.count("Approved") >= 2 and "+12.500" in listing and "-7.900" in listing


def test_the_admin_queue_approves_with_a_note_and_the_managers_are_emailed(issuance, manager, admin_client, trader):
    correction = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                                    mwh=Decimal("96.5"), note="Meter statement.")
    client = admin_client
    queue = client.get(reverse("admin:issuance_correction_changelist"))
    assert queue.status_code == 200 and "-3.900" in queue.text  # the queue shows the difference

    confirm = client.post(reverse("admin:issuance_correction_changelist"),
                          {"action": "approve", "_selected_action": [correction.pk]})
    assert "A shortfall (less generation) is" in confirm.text
    assert "Voided from certificates its owner holds" in confirm.text
    done = client.post(reverse("admin:issuance_correction_changelist"),
                       {"action": "approve", "_selected_action": [correction.pk], "confirm": "yes",
                        "shortfall_by": "void", "note": "Statement checked."}, follow=True)
    assert "Approved 1 correction" in done.text
    correction.refresh_from_db()
    assert (correction.status, correction.voided, correction.decision_note) == ("approved", 4, "Statement checked.")

    events_consume(consumer="emails")
    emails = [message for message in mail.outbox if "correction" in message.subject]
    [email] = emails
    assert email.to == [manager.email]  # the managers only
    assert "1 correction of issued months approved" in email.subject
    assert "100.400 MWh corrected to 96.500 MWh (-3.900 MWh)" in email.body
    assert "4 certificates voided" in email.body and "Statement checked." in email.body
    assert re.search(r"https://registry.example/generation/issuances/\d+/", email.body)


def test_a_refusal_is_emailed_with_the_reason(issuance, manager, staff):
    correction = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                                    mwh=Decimal("120"), note="Meter statement.")
    mail.outbox.clear()
    correction_refuse(user=staff, correction=correction, note="The statement is for another meter.")
    events_consume(consumer="emails")
    [email] = [message for message in mail.outbox if "Correction" in message.subject]
    assert "refused" in email.subject and "The statement is for another meter." in email.body


def test_the_owners_webhooks_are_told_of_the_approval_with_a_body_the_schema_describes(
        issuance, manager, staff, org, monkeypatch):
    from jsonschema import Draft202012Validator

    from webhooks import services as webhook_services
    from webhooks.models import EventType, WebhookDelivery
    from webhooks.payloads import event_schema

    from .factories import WebhookEndpointFactory

    monkeypatch.setattr(webhook_services, "_deliveries_nudge", lambda: None)  # owed, not attempted
    hook = WebhookEndpointFactory(organization=org, event_types=[EventType.ISSUANCE_ADJUSTED])
    WebhookEndpointFactory(organization=org, event_types=[EventType.TRANSFER_PENDING])  # does not want it
    correction = correction_request(organization=org, user=manager, issuance=issuance, mwh=Decimal("112.9"),
                                    note="Meter statement.")
    corrections_approve(user=staff, corrections=[correction], note="Checked.")
    events_consume(consumer="webhooks")

    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.endpoint_id == hook.pk and delivery.event_type == "issuance.adjusted"
    (data,) = delivery.payload["data"]["corrections"]
    correction.refresh_from_db()
    assert (data["generator"], data["mwh_before"], data["mwh_after"], data["quantity"], data["serial_number"]) == (
        "M805", "100.400", "112.900", 12, correction.serial_range)
    assert list(Draft202012Validator(event_schema("issuance.adjusted")).iter_errors(delivery.payload)) == []


def test_the_admin_queue_refuses_with_the_reason(issuance, manager, admin_client):
    correction = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                                    mwh=Decimal("120"), note="Meter statement.")
    url = reverse("admin:issuance_correction_changelist")
    confirm = admin_client.post(url, {"action": "refuse", "_selected_action": [correction.pk]})
    assert "Refuse 1 correction" in confirm.text and "+19.600" in confirm.text

    done = admin_client.post(url, {"action": "refuse", "_selected_action": [correction.pk], "confirm": "yes",
                                   "note": "Another meter's statement."}, follow=True)

    assert "Refused 1 correction." in done.text
    correction.refresh_from_db()
    assert (correction.status, correction.decision_note) == ("refused", "Another meter's statement.")
    assert "+19.600" not in done.text  # the queue shows the requests awaiting a decision
    empty = admin_client.post(url, {"action": "refuse", "_selected_action": [correction.pk], "confirm": "yes",
                                    "note": ""}, follow=True)
    assert correction.status == "refused" and empty.status_code == 200


def test_the_activity_log_says_what_each_correction_did(issuance, manager, staff):
    first = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                               mwh=Decimal("112.9"), note="Meter statement.")
    corrections_approve(user=staff, corrections=[first])
    second = correction_request(organization=issuance.generator.organization, user=manager, issuance=issuance,
                                mwh=Decimal("105"), note="Read again.")
    correction_refuse(user=staff, correction=second, note="Not this meter.")

    page = re.sub(r"\s+", " ", signed_in_as(manager).get("/organization/activity/").text)

    month = f"M805 {issuance.period}"
    assert f"Requested a correction of {month} from 100.400 MWh to 112.900 MWh: Meter statement." in page
    assert f"Registry staff corrected {month} from 100.400 MWh to 112.900 MWh: 12 issued; 0.900 MWh carried." in page
    assert f"Registry staff refused the correction of {month} to 105.000 MWh: Not this meter." in page
