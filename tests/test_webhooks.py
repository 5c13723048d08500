"""Webhooks: each step of a transfer (and each finished mass upload) is owed, exactly once, to every
active endpoint of the organizations concerned that wants it, in the transaction that consumes the
transfers' outbox row; a worker POSTs it signed, and retries with backoff for 24 hours."""

import base64
import datetime
import email.utils
import json
import re
import socket
import time
import uuid
from unittest import mock

import pytest
from cryptography.fernet import InvalidToken
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook

from events.models import Claim, Event
from events.services import events_consume
from ledger.models import LedgerEvent
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from registry.services import ServiceError
from transfers.models import Transfer
from transfers.services import (
    Destination,
    TransferLine,
    export_confirm,
    transfer_accept,
    transfer_create,
    transfer_reject,
    transfer_withdraw,
    transfers_expire,
)
from webhooks import http
from webhooks import services as webhook_services
from webhooks.addresses import UrlRefused, url_target
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from webhooks.sealing import unseal
from webhooks.services import (
    retry_delay,
    webhook_deliveries_send,
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_set_active,
)
from webhooks.signing import RECEIVER_SNIPPET, secret_is_standard, secret_key, secret_new, signature

from .conftest import retire, send
from .factories import WebhookEndpointFactory
from .webhook_receiver import DrippingReceiver, Receiver, self_signed_tls

pytestmark = pytest.mark.django_db(transaction=True)
Status = WebhookDelivery.Status
HEADER = "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1"]
    settings.SITE_URL = "https://registry.example"


@pytest.fixture
def no_delivery(monkeypatch):
    """Deliveries are owed but no worker is woken: the test attempts them itself, at the times it says."""
    monkeypatch.setattr(webhook_services, "_deliveries_nudge", lambda: None)


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.stop()


def received_event(secret: str, request: dict) -> dict | None:
    """The README's and the page's snippet (the standardwebhooks package), run as a receiver runs it."""
    namespace: dict = {}
    exec(RECEIVER_SNIPPET, namespace)  # noqa: S102 (our own constant: the text receivers copy)
    return namespace["registry_event"](secret, request["body"], request["headers"])


def signature_valid(secret: str, request: dict) -> bool:
    return received_event(secret, request) is not None


def endpoint(organization, *event_types, **fields):
    return WebhookEndpointFactory(organization=organization, event_types=list(event_types or EventType.values),
                                  **fields)


def deliveries(**filters):
    return list(WebhookDelivery.objects.filter(**filters).select_related("endpoint").order_by("pk"))


# Fan-out ---------------------------------------------------------------------------------------------

def test_a_pending_transfer_is_owed_once_to_each_wanting_endpoint_of_both_parties_and_no_one_else(
        no_delivery, batch, trader, org, counterparty, counterparty_trader, outsider):
    sender_hook = endpoint(org, EventType.TRANSFER_PENDING)
    endpoint(org, EventType.TRANSFER_ACCEPTED)  # does not want it
    endpoint(org, EventType.TRANSFER_PENDING, is_active=False)  # disabled
    recipient_hooks = [endpoint(counterparty, EventType.TRANSFER_PENDING) for _ in range(2)]
    endpoint(outsider.memberships.get().organization)  # wants everything, concerned by nothing

    transfer = send(batch, trader, org, counterparty, quantity=250)

    owed = deliveries()
    assert sorted(d.endpoint_id for d in owed) == sorted([sender_hook.pk] + [e.pk for e in recipient_hooks])
    assert {d.event_type for d in owed} == {EventType.TRANSFER_PENDING}
    to_sender = next(d for d in owed if d.endpoint_id == sender_hook.pk)
    to_recipient = [d for d in owed if d.endpoint_id != sender_hook.pk]
    # one event per organization: its endpoints share the event id and body; the other party's differs
    assert to_recipient[0].event_id == to_recipient[1].event_id != to_sender.event_id
    assert to_recipient[0].payload == to_recipient[1].payload
    assert to_sender.payload["organization"] == org.public_id
    assert to_recipient[0].payload["organization"] == counterparty.public_id
    data = to_sender.payload["data"]["transfer"]
    assert data["id"] == transfer.pk and data["type"] == "organization" and data["status"] == "pending"
    assert data["quantity"] == 250 and data["item_count"] == 1
    assert data["sender"]["id"] == org.public_id and data["destination"]["organization"]["id"] == counterparty.public_id
    item = transfer.items.get()
    assert [(i["batch"], i["serial_number"], i["quantity"]) for i in data["items"]] == [
        (item.batch_id, item.batch.serial_number, 250)]
    assert data["url"] == f"https://registry.example/transfers/{transfer.pk}/?organization={org.public_id}"
    assert to_sender.payload["id"] == str(to_sender.event_id) and to_sender.payload["type"] == "transfer.pending"
    # when the step was taken (the transfer's submission), not when the outbox was drained
    assert datetime.datetime.fromisoformat(to_sender.payload["created_at"]) <= to_sender.created_at
    assert abs(datetime.datetime.fromisoformat(to_sender.payload["created_at"]) - transfer.submitted_at) < \
        datetime.timedelta(seconds=1)

    assert events_consume(consumer="webhooks") == 0  # consumed already: nothing is owed twice
    assert WebhookDelivery.objects.count() == 3


def test_deliveries_are_owed_by_their_own_consumer_once_whatever_the_emails_do(
        no_wakeups, no_delivery, batch, trader, org, counterparty, counterparty_trader):
    endpoint(org)
    send(batch, trader, org, counterparty)
    assert not WebhookDelivery.objects.exists()  # owed once the webhooks consumer takes the event

    with mock.patch("notifications.consumer.transfer_notify", side_effect=ConnectionError("SMTP is down")):
        assert events_consume(consumer="emails") == 0
    assert Claim.objects.filter(consumer="emails").count() == 1  # the email waits for its retry ...
    assert events_consume(consumer="webhooks") == 1  # ... and holds back no delivery
    assert events_consume(consumer="webhooks") == 0
    assert [d.event_type for d in deliveries()] == [EventType.TRANSFER_PENDING]


def test_each_step_is_its_event_for_the_organizations_it_concerns(
        no_delivery, issue, staff, trader, org, counterparty, counterparty_trader, counterparty_account,
        retirement_account, second_account, tracking_system):
    sender, recipient = endpoint(org), endpoint(counterparty)

    def events_since(mark):
        return sorted((d.endpoint_id, d.event_type) for d in deliveries(pk__gt=mark))

    def step(action):
        mark = WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True).last() or 0
        action()
        return events_since(mark)

    accepted = send(issue(100), trader, org, counterparty)
    assert step(lambda: transfer_accept(transfer=accepted, user=counterparty_trader, organization=counterparty,
                                        account=counterparty_account)) == sorted(
        [(sender.pk, "transfer.accepted"), (recipient.pk, "transfer.accepted")])
    rejected = send(issue(100), trader, org, counterparty)
    assert step(lambda: transfer_reject(transfer=rejected, user=counterparty_trader,
                                        organization=counterparty)) == sorted(
        [(sender.pk, "transfer.rejected"), (recipient.pk, "transfer.rejected")])
    withdrawn = send(issue(100), trader, org, counterparty)
    assert step(lambda: transfer_withdraw(transfer=withdrawn, user=trader, organization=org)) == sorted(
        [(sender.pk, "transfer.withdrawn"), (recipient.pk, "transfer.withdrawn")])
    expiring = send(issue(100), trader, org, counterparty)
    assert step(lambda: transfers_expire(now=timezone.now() + datetime.timedelta(days=365))) == sorted(
        [(sender.pk, "transfer.expired"), (recipient.pk, "transfer.expired")])
    # an internal transfer completes at once: nobody's news
    assert step(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(issue(100).pk, 10)],
                                        destination=Destination.internal(second_account))) == []
    retired_batch = issue(100)
    assert step(lambda: retire(organization=org, user=trader, lines=[TransferLine(retired_batch.pk, 10)],
                               account=retirement_account)) == [(sender.pk, "retirement.created")]
    retirement = deliveries(event_type="retirement.created")[0].payload["data"]["transfer"]["retirement"]
    assert retirement["compliance_period"] == 2024
    export = transfer_create(organization=org, user=trader, lines=[TransferLine(issue(100).pk, 10)],
                             destination=Destination.export(tracking_system, "Acme Energy"))
    assert deliveries(event_type="transfer.pending")[-1].payload["data"]["transfer"]["id"] == export.pk
    assert step(lambda: export_confirm(transfer=export, user=staff)) == [(sender.pk, "export.decided")]
    expiring.refresh_from_db()
    assert expiring.status == Transfer.Status.EXPIRED
    every_body_matches_the_published_schema(deliveries())


def test_a_finished_mass_upload_is_owed_with_its_rows_and_errors(
        no_delivery, settings, tmp_path, batch, trader, org, second_account, counterparty):
    settings.MEDIA_ROOT = tmp_path
    uploads_hook = endpoint(org, EventType.UPLOAD_FINISHED)
    endpoint(counterparty, EventType.UPLOAD_FINISHED)  # not its upload
    good = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("good.csv", (
        HEADER + f"{batch.serial_number},5,,{second_account.public_id},\n").encode()))
    bad = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("bad.csv", (
        HEADER + "nonsense,5,,,\n").encode()))

    owed = deliveries()
    assert [d.endpoint_id for d in owed] == [uploads_hook.pk, uploads_hook.pk]
    completed, failed = (d.payload["data"]["upload"] for d in owed)
    assert completed["id"] == good.pk and completed["status"] == MassTransferUpload.Status.COMPLETED
    assert completed["row_count"] == 1 and completed["error_count"] == 0 and len(completed["transfer_ids"]) == 1
    assert failed["id"] == bad.pk and failed["status"] == MassTransferUpload.Status.FAILED
    assert failed["error_count"] > 0 and failed["transfer_ids"] == []
    every_body_matches_the_published_schema(owed)


def every_body_matches_the_published_schema(owed: list[WebhookDelivery]) -> None:
    """Each body is what the API's OpenAPI 3.1 schema says its event type's webhook carries."""
    schema = Client().get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"}).json()
    assert schema["openapi"].startswith("3.1")
    for delivery in owed:
        operation = schema["webhooks"][delivery.event_type]["post"]
        assert {p["name"] for p in operation["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        body |= {"components": schema["components"]}  # the transfer is the API's: its schema refers to them
        Draft202012Validator(body, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(delivery.payload)
    assert {d.event_type for d in owed} <= set(schema["webhooks"]) and set(schema["webhooks"]) == set(EventType.values)


# Delivery --------------------------------------------------------------------------------------------

def test_a_real_receiver_gets_the_signed_post_with_the_event_headers(
        receiver, batch, trader, org, counterparty, counterparty_trader):
    hook = endpoint(org, EventType.TRANSFER_PENDING, url=receiver.url)
    send(batch, trader, org, counterparty)  # commits; the worker (eager here) sends at once

    [request] = receiver.requests
    [delivery] = deliveries()
    headers = request["headers"]
    assert request["path"] == "/registry-hook"
    assert headers["Content-Type"] == "application/json"
    assert headers["webhook-id"] == str(delivery.event_id)
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    assert not any(name.lower().startswith("registry-") for name in headers)  # the registry's own scheme is gone
    assert json.loads(request["body"]) == delivery.payload
    assert received_event(hook.secret, request) == delivery.payload  # standardwebhooks verifies and parses it
    assert not signature_valid(hook.secret, request | {"body": request["body"] + b" "})
    assert not signature_valid(secret_new(), request)
    assert not signature_valid(hook.secret, request | {"headers": headers | {"webhook-id": str(uuid.uuid4())}})
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (Status.DELIVERED, 1, 200)
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_signatures_match_the_standard_webhooks_test_vector():
    assert signature(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", message_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
                     timestamp=1614265330, body=b'{"test": 2432232314}') == \
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_a_new_secret_is_whsec_and_the_base64_of_32_random_bytes():
    made = {secret_new() for _ in range(20)}
    assert len(made) == 20
    for secret in made:
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret) and secret_is_standard(secret)
        assert base64.b64decode(secret[6:]) == secret_key(secret) and len(secret_key(secret)) == 32


def test_a_secret_made_before_standard_webhooks_still_signs_with_the_bytes_it_encodes():
    legacy = "whsec_" + base64.urlsafe_b64encode(bytes(range(200, 232))).decode().rstrip("=")
    assert "-" in legacy or "_" in legacy  # the URL-safe alphabet, which standard libraries misread
    assert secret_key(legacy) == bytes(range(200, 232)) and not secret_is_standard(legacy)


def stored_secret(hook) -> str:
    with connection.cursor() as cursor:
        cursor.execute("select secret from webhooks_webhookendpoint where id = %s", [hook.pk])
        return cursor.fetchone()[0]


def test_the_signing_secret_is_stored_encrypted_and_still_signs(receiver, batch, trader, org, counterparty, manager):
    hook, secret = webhook_endpoint_create(organization=org, user=manager, url=receiver.url,
                                           event_types=[EventType.TRANSFER_PENDING])
    stored = stored_secret(hook)
    assert secret.startswith("whsec_") and secret not in stored and secret[6:20] not in stored
    assert unseal(stored) == secret and WebhookEndpoint.objects.get(pk=hook.pk).secret == secret
    send(batch, trader, org, counterparty)
    [request] = receiver.requests
    assert signature_valid(secret, request)

    rotated = webhook_endpoint_rotate_secret(endpoint=hook, user=manager)
    assert rotated not in stored_secret(hook) and unseal(stored_secret(hook)) == rotated


def test_a_secret_opens_under_a_fallback_key_and_not_under_another_key(settings, org):
    hook = endpoint(org)
    old_key = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-" + old_key, [old_key]
    assert WebhookEndpoint.objects.get(pk=hook.pk).secret == hook.secret
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidToken):
        unseal(stored_secret(hook))
    lost = WebhookEndpoint.objects.get(pk=hook.pk)  # the row still loads: its secret is lost
    assert lost.secret is None and lost.needs_new_secret


def test_after_a_secret_key_change_an_endpoint_without_its_secret_has_its_deliveries_set_aside_until_replaced(
        settings, receiver, no_delivery, issue, trader, org, counterparty, counterparty_trader, manager):
    lost = endpoint(org, url=receiver.url)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-" + settings.SECRET_KEY, []
    readable = endpoint(org, url=receiver.url.replace("registry-hook", "other-hook"))

    transfer = send(issue(100), trader, org, counterparty)  # the fan-out goes on, for both endpoints

    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.PENDING and not Claim.objects.exists()
    assert sorted(d.endpoint_id for d in deliveries()) == sorted([lost.pk, readable.pk])
    assert webhook_deliveries_send() == 1  # only the readable endpoint's
    set_aside, delivered = deliveries(endpoint=lost)[0], deliveries(endpoint=readable)[0]
    assert delivered.status == Status.DELIVERED and [r["path"] for r in receiver.requests] == ["/other-hook"]
    assert (set_aside.status, set_aside.attempts, set_aside.next_attempt_at) == (Status.SET_ASIDE, 0, None)
    assert set_aside.last_error.startswith("The endpoint's signing secret cannot be read")
    with pytest.raises(ServiceError, match="signing secret cannot be read"):
        webhook_delivery_resend(delivery=set_aside, user=manager)

    secret = webhook_endpoint_rotate_secret(endpoint=WebhookEndpoint.objects.get(pk=lost.pk), user=manager)
    assert webhook_deliveries_send() == 1
    set_aside.refresh_from_db()
    assert (set_aside.status, set_aside.attempts) == (Status.DELIVERED, 1)
    request = receiver.requests[-1]
    assert request["path"] == "/registry-hook"
    assert signature_valid(secret, request)


def test_a_replaced_secret_signs_alongside_the_new_one_for_the_grace_period_then_is_dropped(
        settings, receiver, no_delivery, issue, trader, org, counterparty, manager):
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 24
    hook, first = webhook_endpoint_create(organization=org, user=manager, url=receiver.url,
                                          event_types=[EventType.TRANSFER_PENDING])
    second = webhook_endpoint_rotate_secret(endpoint=hook, user=manager)
    rotated_at = WebhookEndpoint.objects.get(pk=hook.pk).secret_rotated_at

    send(issue(10), trader, org, counterparty, quantity=10)
    webhook_deliveries_send(now=rotated_at + datetime.timedelta(hours=23, minutes=59))
    within = receiver.requests[-1]
    assert len(within["headers"]["webhook-signature"].split(" ")) == 2
    assert signature_valid(second, within) and signature_valid(first, within)  # either secret verifies it

    third = webhook_endpoint_rotate_secret(endpoint=hook, user=manager)  # the first is dropped at once
    send(issue(10), trader, org, counterparty, quantity=10)
    webhook_deliveries_send()
    again = receiver.requests[-1]
    assert signature_valid(third, again) and signature_valid(second, again) and not signature_valid(first, again)

    send(issue(10), trader, org, counterparty, quantity=10)
    webhook_deliveries_send(now=timezone.now() + datetime.timedelta(hours=24))
    after = receiver.requests[-1]
    assert len(after["headers"]["webhook-signature"].split(" ")) == 1
    assert signature_valid(third, after) and not signature_valid(second, after)
    assert stored_previous_secret(hook) is None  # not kept once it signs no more


def stored_previous_secret(hook) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("select previous_secret from webhooks_webhookendpoint where id = %s", [hook.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)  # the migration alters the table its rows were just written to
def test_the_migration_seals_the_secrets_stored_in_the_clear(org, manager):
    from django.db.migrations.executor import MigrationExecutor

    secret = "whsec_" + "c" * 43
    executor = MigrationExecutor(connection)
    executor.migrate([("webhooks", "0001_initial")])
    try:
        old = executor.loader.project_state([("webhooks", "0001_initial")]).apps
        old.get_model("webhooks", "WebhookEndpoint").objects.create(
            organization_id=org.pk, created_by_id=manager.pk, url="https://old.example.com/hook", event_types=[],
            secret=secret, is_active=True, created_at=timezone.now())
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes("webhooks"))
    hook = WebhookEndpoint.objects.get(url="https://old.example.com/hook")
    assert secret not in stored_secret(hook) and hook.secret == secret


def test_the_snippet_refuses_a_delivery_signed_more_than_five_minutes_ago(receiver, no_delivery, batch, trader, org,
                                                                  counterparty):
    hook = endpoint(org, url=receiver.url)
    send(batch, trader, org, counterparty)
    with mock.patch("webhooks.services.time.time", return_value=1_000_000_000):
        webhook_deliveries_send()
    request = receiver.requests[0]
    assert request["headers"]["webhook-timestamp"] == "1000000000"
    assert not signature_valid(hook.secret, request)
    # refused for its age alone: the signature is the one the library makes for that moment
    assert Webhook(hook.secret).sign(request["headers"]["webhook-id"], datetime.datetime.fromtimestamp(
        1_000_000_000, tz=datetime.UTC), request["body"]) == request["headers"]["webhook-signature"]


def test_retry_delays_double_from_30_seconds_to_at_most_an_hour():
    assert [retry_delay(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_receiver_answering_500_is_tried_again_after_the_backoff_then_delivered(
        receiver, no_delivery, batch, trader, org, counterparty):
    endpoint(org, url=receiver.url)
    send(batch, trader, org, counterparty)
    [delivery] = deliveries()
    receiver.answers = [500, 503]
    t0 = delivery.created_at

    assert webhook_deliveries_send(now=t0) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (Status.PENDING, 1, 500)
    assert delivery.next_attempt_at == t0 + datetime.timedelta(seconds=30)
    assert delivery.last_error == "The receiver answered 500."

    assert webhook_deliveries_send(now=t0 + datetime.timedelta(seconds=29)) == 0  # not due yet
    assert webhook_deliveries_send(now=t0 + datetime.timedelta(seconds=30)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (Status.PENDING, 2, 503)
    assert delivery.next_attempt_at == t0 + datetime.timedelta(seconds=30 + 60)

    assert webhook_deliveries_send(now=t0 + datetime.timedelta(seconds=90)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (Status.DELIVERED, 3, 200)
    assert delivery.next_attempt_at is None and delivery.last_error == ""
    assert len({r["headers"]["webhook-id"] for r in receiver.requests}) == 1  # the same event each time
    assert len({r["body"] for r in receiver.requests}) == 1


def test_after_24_hours_of_failures_the_delivery_fails_and_resend_tries_it_once_more_now(
        receiver, no_delivery, batch, trader, org, counterparty, manager):
    endpoint(org, url=receiver.url)
    send(batch, trader, org, counterparty)
    [delivery] = deliveries()
    t0 = delivery.created_at
    receiver.answers = [500, 500]

    webhook_deliveries_send(now=t0 + datetime.timedelta(hours=20))
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING  # 20 h: still within the day
    webhook_deliveries_send(now=delivery.next_attempt_at + datetime.timedelta(hours=3, minutes=59, seconds=40))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (Status.FAILED, 2, None)
    assert webhook_deliveries_send(now=t0 + datetime.timedelta(days=2)) == 0  # failed: not tried again

    webhook_delivery_resend(delivery=delivery, user=manager)
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.next_attempt_at <= timezone.now()
    assert webhook_deliveries_send() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (Status.DELIVERED, 3, 200)
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [str(delivery.event_id)] * 3


def test_a_redirect_is_not_followed(receiver, no_delivery, batch, trader, org, counterparty):
    endpoint(org, url=receiver.url)
    send(batch, trader, org, counterparty)
    receiver.answers = [302]
    webhook_deliveries_send()
    [delivery] = deliveries()
    assert len(receiver.requests) == 1
    assert (delivery.status, delivery.last_response_code) == (Status.PENDING, 302)
    assert delivery.last_error == "Redirect (302) not followed: give the final URL."


def test_a_receivers_410_disables_the_endpoint_tells_its_managers_and_enabling_it_sends_what_waited(
        mailoutbox, receiver, no_delivery, issue, trader, org, counterparty, manager):
    hook = endpoint(org, url=receiver.url)
    for _ in range(2):
        send(issue(10), trader, org, counterparty, quantity=10)
    first, second = deliveries()
    receiver.answers = [410]
    t0 = second.created_at

    assert webhook_deliveries_send(now=t0) == 1  # the 410; nothing more is sent to it
    hook.refresh_from_db()
    assert not hook.is_active and hook.disabled_at == t0 and "410 Gone" in hook.disabled_reason
    first.refresh_from_db()
    assert (first.status, first.last_response_code) == (Status.PENDING, 410)
    assert first.last_error.startswith("The receiver answered 410 Gone: it wants no more deliveries")
    [email] = [message for message in mailoutbox if "Webhook endpoint disabled" in message.subject]
    assert email.to == [manager.email] and hook.url in email.subject and "answered 410 Gone" in email.body
    assert f"/organization/webhooks/{hook.pk}/" in email.body
    assert webhook_deliveries_send(now=t0 + datetime.timedelta(hours=1)) == 0

    webhook_endpoint_set_active(endpoint=hook, user=manager, active=True)
    hook.refresh_from_db()
    assert hook.is_active and hook.disabled_reason == "" and hook.disabled_at is None
    assert webhook_deliveries_send(now=t0 + datetime.timedelta(hours=1)) == 2
    assert {d.status for d in deliveries()} == {Status.DELIVERED}
    assert len([m for m in mailoutbox if "Webhook endpoint disabled" in m.subject]) == 1


def retry_after_in(moment: datetime.datetime) -> str:
    return email.utils.format_datetime(moment.astimezone(datetime.UTC), usegmt=True)


@pytest.mark.parametrize(("code", "retry_after", "waits"), [
    (429, "120", 120),  # longer than the backoff: as asked
    (503, "5", 30),  # shorter than the backoff: the backoff
    (502, "86400", 3600),  # capped at WEBHOOKS_RETRY_MAX_SECONDS
    (504, None, 30),
    (429, "in a while", 30),  # unreadable: the backoff
    (503, "date:600", 600),  # an HTTP date, ten minutes on
    (429, "date:-600", 30),  # a date gone by
])
def test_a_receiver_asking_to_slow_down_gets_nothing_before_its_retry_after_or_the_backoff(
        code, retry_after, waits, receiver, no_delivery, issue, trader, org, counterparty):
    hook = endpoint(org, url=receiver.url)
    for _ in range(2):
        send(issue(10), trader, org, counterparty, quantity=10)
    first, second = deliveries()
    t0 = second.created_at
    if retry_after and retry_after.startswith("date:"):
        retry_after = retry_after_in(t0 + datetime.timedelta(seconds=int(retry_after[5:])))
    receiver.answers = [(code, {"Retry-After": retry_after} if retry_after else {})]

    assert webhook_deliveries_send(now=t0) == 1  # the other delivery waits with it
    first.refresh_from_db()
    hook.refresh_from_db()
    assert first.last_response_code == code and first.status == Status.PENDING
    assert abs((first.next_attempt_at - t0).total_seconds() - waits) < 1
    assert hook.paused_until == first.next_attempt_at and hook.is_active
    assert first.last_error.startswith(f"The receiver answered {code}")
    assert first.last_error.endswith("nothing is sent to it before the next attempt.")
    assert webhook_deliveries_send(now=hook.paused_until - datetime.timedelta(seconds=1)) == 0
    assert webhook_deliveries_send(now=hook.paused_until) == 2
    assert {d.status for d in deliveries()} == {Status.DELIVERED}


def test_a_receiver_that_does_not_answer_in_time_is_a_failed_attempt(settings, receiver, no_delivery, batch,
                                                                      trader, org, counterparty):
    settings.WEBHOOKS_ATTEMPT_SECONDS = 0.3
    endpoint(org, url=receiver.url)
    send(batch, trader, org, counterparty)
    receiver.delay = 1
    webhook_deliveries_send()
    [delivery] = deliveries()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (Status.PENDING, 1, None)
    assert delivery.last_error == "No answer within 0.3 s."


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_attempts_deadline(settings, no_delivery, batch, trader,
                                                                             org, counterparty):
    """A byte every 0.2 s never lets a per-read timeout expire; the attempt's deadline still ends it."""
    settings.WEBHOOKS_ATTEMPT_SECONDS = 1
    dripping = DrippingReceiver(interval=0.2, seconds=8)
    try:
        endpoint(org, url=dripping.url)
        send(batch, trader, org, counterparty)
        started = time.monotonic()
        assert webhook_deliveries_send() == 1
        took = time.monotonic() - started
    finally:
        dripping.stop()
    [delivery] = deliveries()
    assert dripping.connections == 1
    assert 1 <= took < 2.5, took
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (Status.PENDING, 1, None)
    assert delivery.last_error == "No answer within 1 s."


def test_over_tls_too_a_dripping_receiver_is_cut_off_at_the_deadline(monkeypatch, tmp_path):
    server_tls, client_tls = self_signed_tls(tmp_path)
    client_tls.sslsocket_class = http._PinnedHTTPSConnection.tls.sslsocket_class  # the registry's sockets
    monkeypatch.setattr(http._PinnedHTTPSConnection, "tls", client_tls)
    dripping = DrippingReceiver(interval=0.2, seconds=8, tls=server_tls)
    try:
        started = time.monotonic()
        with pytest.raises(http.DeliveryFailed, match=r"^No answer within 1 s\.$"):
            http.post(url_target(dripping.url), body=b"{}", headers={}, seconds=1)
        took = time.monotonic() - started
    finally:
        dripping.stop()
    assert dripping.connections == 1 and 1 <= took < 2.5, took


def test_a_run_stops_starting_attempts_after_its_time_budget(settings, receiver, no_delivery, issue, trader, org,
                                                             counterparty):
    settings.WEBHOOKS_RUN_SECONDS = 0.2
    endpoint(org, url=receiver.url)
    for _ in range(3):
        send(issue(10), trader, org, counterparty, quantity=10)
    receiver.delay = 0.3
    assert webhook_deliveries_send() == 1  # the first took longer than the budget: the rest wait
    assert WebhookDelivery.objects.filter(attempts=0).count() == 2


def test_two_workers_at_once_attempt_each_delivery_once(receiver, no_delivery, issue, trader, org, counterparty):
    from .test_concurrency import race

    endpoint(org, url=receiver.url)
    for _ in range(6):
        send(issue(10), trader, org, counterparty, quantity=10)
    receiver.delay = 0.05
    outcomes = race(webhook_deliveries_send, webhook_deliveries_send)
    assert sorted(outcome[0] for outcome in outcomes) == ["ok", "ok"]
    assert sum(outcome[1] for outcome in outcomes) == 6
    assert sorted(r["headers"]["webhook-id"] for r in receiver.requests) == sorted(
        str(d.event_id) for d in deliveries())
    assert {d.status for d in deliveries()} == {Status.DELIVERED}


# Where the registry refuses to send (https only; no private or local address) -----------------------

@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.example.com/registry", "Use an https:// URL"),
    ("ftp://hooks.example.com/registry", "Enter a full URL that begins with https://"),
    ("https://10.0.0.5/registry", "10.0.0.5 is a private or local address (10.0.0.5)"),
    ("https://169.254.169.254/latest/meta-data", "is a private or local address"),
    ("https://localhost/registry", "localhost is a private or local address"),
    ("https://[::1]/registry", "is a private or local address (::1)"),
    ("https://user:secret@hooks.example.com/registry", "Leave the user name and password out of the URL"),
    ("https://nowhere.invalid/registry", "The host nowhere.invalid could not be found"),
])
def test_refused_urls_say_why(url, message):
    with pytest.raises(UrlRefused, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        url_target(url)


@pytest.mark.parametrize(("address", "reason"), [("64:ff9b::a9fe:a9fe", "which leads to 169.254.169.254"),
                                                 ("2002:7f00:1::", "which leads to 127.0.0.1"),
                                                 ("224.0.0.1", "a multicast address")])
def test_a_host_that_resolves_to_a_refused_address_at_delivery_is_not_sent_to(
        address, reason, no_delivery, batch, trader, org, counterparty):
    endpoint(org, url="https://hooks.example.com/registry")
    send(batch, trader, org, counterparty)
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with mock.patch("webhooks.addresses.socket.getaddrinfo",
                    return_value=[(family, socket.SOCK_STREAM, 6, "", (address, 443))]), \
            mock.patch("webhooks.http.socket.socket.connect") as connect:
        webhook_deliveries_send()
    connect.assert_not_called()
    [delivery] = deliveries()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert delivery.last_error.startswith("hooks.example.com is ") and reason in delivery.last_error


def test_the_allowed_local_host_may_use_http_and_nothing_else_may(settings):
    assert url_target("http://127.0.0.1:8080/hook").address == "127.0.0.1"
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = []
    with pytest.raises(UrlRefused, match="Use an https:// URL"):
        url_target("http://127.0.0.1:8080/hook")
    with pytest.raises(UrlRefused, match="private or local"):
        url_target("https://127.0.0.1:8080/hook")


def test_a_host_that_resolves_to_a_private_address_at_delivery_is_not_sent_to(no_delivery, batch, trader, org,
                                                                              counterparty):
    endpoint(org, url="https://hooks.example.com/registry")
    send(batch, trader, org, counterparty)
    private = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 443))]
    with mock.patch("webhooks.addresses.socket.getaddrinfo", return_value=private), \
            mock.patch("webhooks.http.socket.socket.connect") as connect:
        webhook_deliveries_send()
    connect.assert_not_called()
    [delivery] = deliveries()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 1)
    assert delivery.last_error == ("hooks.example.com is a private or local address (10.1.2.3); the registry only "
                                   "sends to addresses on the public internet.")


def test_a_disabled_endpoint_is_sent_nothing_until_enabled(no_delivery, receiver, batch, trader, org, counterparty):
    hook = endpoint(org, url=receiver.url)
    send(batch, trader, org, counterparty)
    hook.is_active = False
    hook.save(update_fields=["is_active"])
    assert webhook_deliveries_send() == 0 and receiver.requests == []
    hook.is_active = True
    hook.save(update_fields=["is_active"])
    assert webhook_deliveries_send() == 1 and len(receiver.requests) == 1


def test_ledger_kinds_without_an_event_owe_nothing(no_delivery, org):
    from webhooks.services import event_type_of

    assert event_type_of(event_kind=Event.Kind.TRANSFER_SUBMITTED, transfer_kind="internal") is None
    assert event_type_of(event_kind=Event.Kind.TRANSFER_SUBMITTED, transfer_kind="export") == "transfer.pending"
    assert event_type_of(event_kind=LedgerEvent.Kind.SPLIT, transfer_kind="organization") is None
