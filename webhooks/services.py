"""Every write of webhooks: endpoints (managers), the deliveries owed (the webhooks consumer of the
domain events, in the transaction that consumes each event's claim) and their attempts (a worker,
outside any transaction while it waits)."""

import datetime
import json
import logging
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from billing.selectors import invoices_with_balance
from events.models import Event
from events.services import event_record
from issuance.models import Correction, Issuance
from mass_uploads.models import MassTransferUpload
from registry.models import Organization, User
from registry.services import ServiceError, manager_require
from transfers.models import Transfer
from utilities.wakeups import Wakeup

from . import http
from .addresses import UrlRefused, url_target
from .models import EventType, WebhookDelivery, WebhookEndpoint
from .payloads import event_payload
from .signing import secret_new, signed_headers

logger = logging.getLogger(__name__)
Status = WebhookDelivery.Status
SECRET_UNREADABLE = ("The endpoint's signing secret cannot be read (the registry's SECRET_KEY was changed): a "
                     "manager must replace the secret; what is set aside is then sent.")

# Each domain event of a transfer's step, as the event type an endpoint subscribes to. A transfer
# submitted is "pending" when it waits for a decision (to another organization, an export); an
# internal one completes at once and is nobody else's news.
EVENT_TYPES = {
    Event.Kind.TRANSFER_ACCEPTED: EventType.TRANSFER_ACCEPTED,
    Event.Kind.TRANSFER_REJECTED: EventType.TRANSFER_REJECTED,
    Event.Kind.TRANSFER_WITHDRAWN: EventType.TRANSFER_WITHDRAWN,
    Event.Kind.TRANSFER_EXPIRED: EventType.TRANSFER_EXPIRED,
    Event.Kind.RETIREMENT_MADE: EventType.RETIREMENT_CREATED,
    Event.Kind.EXPORT_CONFIRMED: EventType.EXPORT_DECIDED,
    Event.Kind.EXPORT_REJECTED: EventType.EXPORT_DECIDED,
    Event.Kind.IMPORT_RECORDED: EventType.IMPORT_RECORDED,
    Event.Kind.IMPORT_ACCEPTED: EventType.IMPORT_ACCEPTED,
    Event.Kind.IMPORT_REJECTED: EventType.IMPORT_REJECTED,
}
# An invoice's events, as the event types an endpoint subscribes to (billing.services records them).
INVOICE_EVENT_TYPES = {
    Event.Kind.INVOICE_ISSUED: EventType.INVOICE_ISSUED,
    Event.Kind.INVOICE_PAID: EventType.INVOICE_PAID,
    Event.Kind.INVOICE_OVERDUE: EventType.INVOICE_OVERDUE,
}
# What the webhooks consumer takes (events.consumers, registered in webhooks.apps).
EVENTS_CONSUMED = frozenset({*EVENT_TYPES, *INVOICE_EVENT_TYPES, Event.Kind.TRANSFER_SUBMITTED,
                             Event.Kind.UPLOAD_FINISHED, Event.Kind.ISSUANCE_ROLLED_BACK,
                             Event.Kind.CERTIFICATES_VOIDED, Event.Kind.ISSUANCE_ADJUSTED})
WAITS_FOR_A_DECISION = (Transfer.Kind.ORGANIZATION, Transfer.Kind.EXPORT)


def event_type_of(*, event_kind: str, transfer_kind: str) -> str | None:
    if event_kind == Event.Kind.TRANSFER_SUBMITTED:
        return EventType.TRANSFER_PENDING if transfer_kind in WAITS_FOR_A_DECISION else None
    return EVENT_TYPES.get(event_kind)


# Endpoints ------------------------------------------------------------------------------------------

def _event_types_check(event_types) -> list[str]:
    wanted = [value for value in EventType.values if value in set(event_types)]
    if not wanted or len(wanted) != len(set(event_types)):
        raise ServiceError("Choose at least one event, from the list.")
    return wanted


@transaction.atomic(durable=True)
def webhook_endpoint_create(*, organization: Organization, user: User, url: str,
                            event_types: list[str]) -> tuple[WebhookEndpoint, str]:
    """A manager registers an endpoint: an https URL on the public internet (webhooks.addresses) and
    the events it wants; at most WEBHOOKS_MAX_ENDPOINTS per organization. Returns the endpoint and its
    signing secret, which is shown this once."""
    manager_require(user=user, organization=organization)
    url_target(url)
    wanted = _event_types_check(event_types)
    Organization.objects.select_for_update().filter(pk=organization.pk).first()  # the count below holds
    if WebhookEndpoint.objects.filter(organization=organization).count() >= settings.WEBHOOKS_MAX_ENDPOINTS:
        raise ServiceError(f"{organization.name} already has {settings.WEBHOOKS_MAX_ENDPOINTS} endpoints, the "
                           "most it may have; delete one first.")
    secret = secret_new()
    endpoint = WebhookEndpoint.objects.create(organization=organization, created_by=user, url=url.strip(),
                                              event_types=wanted, secret=secret)
    return endpoint, secret


def _endpoint_lock(endpoint: WebhookEndpoint, user: User) -> WebhookEndpoint:
    manager_require(user=user, organization=endpoint.organization)
    locked = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint.pk).first()
    if locked is None:
        raise ServiceError("This endpoint was deleted meanwhile.")
    return locked


@transaction.atomic(durable=True)
def webhook_endpoint_set_active(*, endpoint: WebhookEndpoint, user: User, active: bool) -> WebhookEndpoint:
    """A disabled endpoint is owed nothing new, and what it was owed waits until it is enabled again
    (within the retry window of each delivery)."""
    locked = _endpoint_lock(endpoint, user)
    if locked.is_active == active:
        raise ServiceError(f"This endpoint is already {'enabled' if active else 'disabled'}.")
    WebhookEndpoint.objects.filter(pk=locked.pk, is_active=locked.is_active).update(
        is_active=active, disabled_reason="", disabled_at=None if active else timezone.now(), paused_until=None)
    endpoint.is_active, endpoint.disabled_reason, endpoint.paused_until = active, "", None
    if active:
        transaction.on_commit(_deliveries_nudge)
    return endpoint


def secret_grace() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS)


@transaction.atomic(durable=True)
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, user: User) -> str:
    """A new signing secret, shown once, which signs from the next attempt on; the old one (if it can
    be read) signs alongside it for WEBHOOKS_SECRET_GRACE_HOURS, then is dropped (a secret replaced
    before is dropped at once). What was set aside for want of a readable secret is sent again now."""
    locked = _endpoint_lock(endpoint, user)
    secret = secret_new()
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        secret=secret, secret_rotated_at=now, previous_secret=locked.secret,
        previous_secret_until=now + secret_grace() if locked.secret is not None else None)
    if WebhookDelivery.objects.filter(endpoint=endpoint, status=Status.SET_ASIDE).update(
            status=Status.PENDING, next_attempt_at=now):
        transaction.on_commit(_deliveries_nudge)
    endpoint.secret = secret
    return secret


@transaction.atomic(durable=True)
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint, user: User) -> None:
    """The endpoint and its deliveries go; nothing more is sent to it."""
    _endpoint_lock(endpoint, user)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()


@transaction.atomic(durable=True)
def webhook_delivery_resend(*, delivery: WebhookDelivery, user: User) -> WebhookDelivery:
    """One more attempt of the same event (same event id, same body), now; after it fails, retries go
    on only within the delivery's retry window (WEBHOOKS_RETRY_HOURS from its creation)."""
    locked = _endpoint_lock(delivery.endpoint, user)
    if not locked.is_active:
        raise ServiceError("This endpoint is disabled: enable it first (what it is owed is then sent).")
    if locked.needs_new_secret:
        raise ServiceError(SECRET_UNREADABLE)
    now = timezone.now()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.PENDING, next_attempt_at=now)
    WebhookEndpoint.objects.filter(pk=locked.pk).update(paused_until=None)  # a manager asks for it now
    delivery.status, delivery.next_attempt_at = Status.PENDING, now
    transaction.on_commit(_deliveries_nudge)
    return delivery


# Fan-out: in the transaction that consumes the event's claim -------------------------------------

def webhook_deliveries_owe(event: Event) -> int:
    """The webhooks consumer's handler: the deliveries owed for one domain event. It runs in the
    transaction that deletes the event's claim (events.services), so they are owed exactly once."""
    if event.kind == Event.Kind.UPLOAD_FINISHED:
        return webhook_deliveries_owe_for_upload(upload_id=event.subject_id)
    if event.kind in (Event.Kind.ISSUANCE_ROLLED_BACK, Event.Kind.CERTIFICATES_VOIDED, Event.Kind.ISSUANCE_ADJUSTED):
        return webhook_deliveries_owe_for_correction(event)
    if event.kind in INVOICE_EVENT_TYPES:
        return webhook_deliveries_owe_for_invoice(event)
    return webhook_deliveries_owe_for_transfer(transfer_id=event.subject_id, event_kind=event.kind,
                                               occurred_at=event.occurred_at)


def _deliveries_owe(*, event_type: str, organizations: list[Organization], occurred_at: datetime.datetime,
                    **subject) -> int:
    """One delivery per active endpoint of each organization that wants `event_type`; every endpoint
    of one organization gets the same event (id and body), which says when it happened."""
    endpoints = list(WebhookEndpoint.objects.filter(organization__in=organizations, is_active=True,
                                                    event_types__contains=[event_type]).defer("secret"))
    if not endpoints:
        return 0
    now = timezone.now()
    deliveries = []
    for organization in organizations:
        mine = [endpoint for endpoint in endpoints if endpoint.organization_id == organization.pk]
        if not mine:
            continue
        event_id = uuid.uuid4()
        payload = event_payload(event_type=event_type, event_id=event_id, organization=organization,
                                created_at=occurred_at, **subject)
        deliveries += [WebhookDelivery(endpoint=endpoint, event_type=event_type, event_id=event_id, payload=payload,
                                       created_at=now, next_attempt_at=now) for endpoint in mine]
    WebhookDelivery.objects.bulk_create(deliveries)
    transaction.on_commit(_deliveries_nudge)
    return len(deliveries)


@transaction.atomic
def webhook_deliveries_owe_for_transfer(*, transfer_id: int, event_kind: str, occurred_at: datetime.datetime) -> int:
    """The deliveries owed for one step of a transfer, to the organizations it concerns (the sender;
    the recipient organization of a transfer to another one)."""
    transfer = (Transfer.objects.select_related("organization", "recipient_organization", "destination_account",
                                                "tracking_system", "retirement__option")
                .filter(pk=transfer_id).first())
    event_type = transfer and event_type_of(event_kind=event_kind, transfer_kind=transfer.kind)
    if not event_type:
        return 0
    organizations = [transfer.organization]
    if transfer.kind == Transfer.Kind.ORGANIZATION:
        organizations.append(transfer.recipient_organization)
    if transfer.kind == Transfer.Kind.IMPORT:  # its sender is the source's stand-in: only the recipient is told
        organizations = [transfer.recipient_organization]
    return _deliveries_owe(event_type=event_type, organizations=organizations, occurred_at=occurred_at,
                           transfer=transfer)


@transaction.atomic
def webhook_deliveries_owe_for_upload(*, upload_id: int) -> int:
    """The deliveries owed for a finished mass upload, to its organization."""
    upload = MassTransferUpload.objects.select_related("organization").filter(pk=upload_id).first()
    if upload is None:
        return 0
    return _deliveries_owe(event_type=EventType.UPLOAD_FINISHED, organizations=[upload.organization],
                           occurred_at=upload.finished_at, upload=upload)


@transaction.atomic
def webhook_deliveries_owe_for_correction(event: Event) -> int:
    """The deliveries owed for an issuance registry staff rolled back, certificates they voided, or
    corrections they approved, to the organization that held them (the generators' owner)."""
    organization = Organization.objects.filter(pk=event.organization_id).first()
    if organization is None:
        return 0
    if event.kind == Event.Kind.ISSUANCE_ROLLED_BACK:
        issuance = Issuance.objects.select_related("generator", "certificate").filter(pk=event.subject_id).first()
        if issuance is None:
            return 0
        return _deliveries_owe(event_type=EventType.ISSUANCE_ROLLED_BACK, organizations=[organization],
                               occurred_at=event.occurred_at, issuance=issuance)
    if event.kind == Event.Kind.ISSUANCE_ADJUSTED:
        corrections = list(Correction.objects.filter(pk__in=event.data["correction_ids"])
                           .select_related("generator", "certificate").order_by("generator__code", "month"))
        return _deliveries_owe(event_type=EventType.ISSUANCE_ADJUSTED, organizations=[organization],
                               occurred_at=event.occurred_at, corrections=corrections)
    return _deliveries_owe(event_type=EventType.CERTIFICATES_VOIDED, organizations=[organization],
                           occurred_at=event.occurred_at, voided=event.data)


@transaction.atomic
def webhook_deliveries_owe_for_invoice(event: Event) -> int:
    """The deliveries owed for an invoice issued, paid or overdue, to the organization it bills: the
    invoice as the API answers it, as it is when the event is fanned out."""
    invoice = invoices_with_balance().select_related("organization").filter(pk=event.subject_id).first()
    if invoice is None:
        return 0
    return _deliveries_owe(event_type=INVOICE_EVENT_TYPES[event.kind], organizations=[invoice.organization],
                           occurred_at=event.occurred_at, invoice=invoice)


# After a commit that owes deliveries (also attempted every WEBHOOKS_SEND_SECONDS by beat).
_deliveries_nudge = Wakeup("webhooks.tasks.send_webhook_deliveries", owed="the webhook deliveries owed")


# Attempts: a worker claims a due delivery, POSTs outside any transaction, records the answer ----

def retry_delay(attempts: int) -> datetime.timedelta:
    """How long after its `attempts`-th failed attempt a delivery is tried again: doubling from
    WEBHOOKS_RETRY_FIRST_SECONDS, at most WEBHOOKS_RETRY_MAX_SECONDS (30 s, 1 min, 2 min, ... 1 h)."""
    seconds = settings.WEBHOOKS_RETRY_FIRST_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return datetime.timedelta(seconds=min(seconds, settings.WEBHOOKS_RETRY_MAX_SECONDS))


def retry_window() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.WEBHOOKS_RETRY_HOURS)


def _lease() -> datetime.timedelta:
    """How long a claimed attempt is the claimant's: a worker that dies in the middle leaves the
    delivery to be tried again after it (the receiver drops the repeat by its event id)."""
    return datetime.timedelta(seconds=2 * settings.WEBHOOKS_ATTEMPT_SECONDS + 30)


@transaction.atomic(durable=True)
def _delivery_claim(now: datetime.datetime) -> WebhookDelivery | None:
    """The oldest due delivery of an active endpoint no other worker holds, its attempt counted
    (compare-and-swap on the count) and its next attempt moved past the lease. A delivery to an
    endpoint whose secret cannot be read is set aside, with the reason, until the secret is replaced."""
    while True:
        due = (WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",)).select_related("endpoint")
               .filter(Q(endpoint__paused_until__isnull=True) | Q(endpoint__paused_until__lte=now),
                       status=Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True)
               .order_by("next_attempt_at", "pk").first())
        if due is None:
            return None
        if not due.endpoint.needs_new_secret:
            break
        WebhookDelivery.objects.filter(pk=due.pk, status=Status.PENDING).update(
            status=Status.SET_ASIDE, next_attempt_at=None, last_error=SECRET_UNREADABLE)
    claimed = WebhookDelivery.objects.filter(pk=due.pk, status=Status.PENDING, attempts=due.attempts).update(
        attempts=F("attempts") + 1, next_attempt_at=now + _lease())
    if claimed != 1:
        return None
    due.attempts += 1
    return due


def _delivery_post(delivery: WebhookDelivery, *, now: datetime.datetime) -> tuple[http.Answer | None, str]:
    """POST the delivery once: (the receiver's answer, "") or (None, why there was no answer)."""
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    try:
        target = url_target(delivery.endpoint.url)  # again now: the host's addresses may have changed
        answer = http.post(target, body=body, seconds=settings.WEBHOOKS_ATTEMPT_SECONDS, headers={
            "Content-Type": "application/json", "User-Agent": f"{settings.REGISTRY_NAME} webhooks",
            **signed_headers(secrets_signing=delivery.endpoint.secrets_signing(now),
                             message_id=str(delivery.event_id), timestamp=int(time.time()), body=body),
        })
    except (UrlRefused, http.DeliveryFailed) as error:
        return None, str(error)
    return answer, ""


# How a receiver's answer is taken (Standard Webhooks: "Delivery success and failure").
GONE = 410  # it wants no more: the endpoint is disabled
SLOW_DOWN = (429, 502, 503, 504)  # overloaded or rate-limited: the whole endpoint waits, as Retry-After asks
ENDPOINT_GONE = ("The receiver answered 410 Gone: it wants no more deliveries, so the registry disabled the "
                 "endpoint. Enable it again once it wants them.")


def _failure(code: int, *, waits_until: datetime.datetime | None, asked: float | None) -> str:
    if code == GONE:
        return ENDPOINT_GONE
    if 300 <= code < 400:
        return f"Redirect ({code}) not followed: give the final URL."
    if waits_until is not None:
        asked_for = f", asking to wait {asked:g} s" if asked else ""
        return f"The receiver answered {code}{asked_for}: nothing is sent to it before the next attempt."
    return f"The receiver answered {code}."


@transaction.atomic
def _delivery_record(delivery: WebhookDelivery, *, answer: http.Answer | None, error: str,
                     now: datetime.datetime) -> str:
    """Delivered on a 2xx; else tried again after retry_delay, or failed when that falls after the
    retry window. After a 429, 502, 503 or 504 the next attempt waits at least as long as the answer's
    Retry-After asks (at most WEBHOOKS_RETRY_MAX_SECONDS), and nothing else is sent to the endpoint
    before it; a 410 disables the endpoint and tells its managers. Only the claimant's attempt is
    recorded (compare-and-swap on the attempt count)."""
    code = answer.status if answer else None
    if code is not None and 200 <= code < 300:
        changes = {"status": Status.DELIVERED, "delivered_at": now, "next_attempt_at": None, "last_error": ""}
    else:
        delay, asked, waits_until = retry_delay(delivery.attempts), None, None
        if code in SLOW_DOWN:
            asked = http.retry_after_seconds(answer.retry_after, now=now)
            delay = min(max(delay, datetime.timedelta(seconds=asked or 0)),
                        datetime.timedelta(seconds=settings.WEBHOOKS_RETRY_MAX_SECONDS))
            waits_until = now + delay
        retry_at = now + delay
        gives_up = retry_at > delivery.created_at + retry_window()
        if code is not None:
            error = _failure(code, waits_until=waits_until, asked=asked)
        changes = {"status": Status.FAILED if gives_up else Status.PENDING,
                   "next_attempt_at": None if gives_up else retry_at, "last_error": error[:300]}
    recorded = WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.PENDING,
                                              attempts=delivery.attempts).update(last_response_code=code, **changes)
    if recorded and code == GONE:
        _endpoint_disable_as_gone(delivery.endpoint_id, now=now)
    elif recorded and code in SLOW_DOWN:
        WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(paused_until=retry_at)
    return changes["status"]


def _endpoint_disable_as_gone(endpoint_id: int, *, now: datetime.datetime) -> None:
    """The receiver answered 410 Gone: the endpoint is disabled (what it is owed waits, as for a
    manager's disabling) and its managers are told, once (its domain event)."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, is_active=True)
    if endpoint.update(is_active=False, disabled_at=now, disabled_reason=ENDPOINT_GONE):
        organization_id = WebhookEndpoint.objects.filter(pk=endpoint_id).values_list("organization_id", flat=True)[0]
        event_record(kind=Event.Kind.WEBHOOK_ENDPOINT_DISABLED, organization_id=organization_id,
                     subject_id=endpoint_id)


def _previous_secrets_drop(now: datetime.datetime) -> None:
    """A replaced secret's grace period is over: it is not kept any longer than it signs."""
    WebhookEndpoint.objects.filter(previous_secret_until__lte=now).update(previous_secret=None,
                                                                          previous_secret_until=None)


def webhook_deliveries_send(*, now: datetime.datetime | None = None, limit: int = 100) -> int:
    """Attempt up to `limit` due deliveries, one at a time, for at most WEBHOOKS_RUN_SECONDS (slow
    receivers do not hold a worker for long; beat and the next wake-up go on): each is claimed in a
    short transaction, POSTed with no transaction open (a slow receiver holds no lock), and its answer
    recorded in another. Returns the number attempted."""
    attempted = 0
    stop_at = time.monotonic() + settings.WEBHOOKS_RUN_SECONDS
    _previous_secrets_drop(now or timezone.now())
    for _ in range(limit):
        if time.monotonic() > stop_at:
            break
        moment = now or timezone.now()
        delivery = _delivery_claim(moment)
        if delivery is None:
            break
        answer, error = _delivery_post(delivery, now=moment)
        _delivery_record(delivery, answer=answer, error=error, now=now or timezone.now())
        attempted += 1
    return attempted
