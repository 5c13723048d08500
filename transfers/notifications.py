"""Emails to both parties of a transfer, one per step: owed in the transaction of the change (a
TransferNotification row), sent by a Celery task after it commits. Each is written in its
recipients' time zone."""

import itertools
from collections.abc import Iterator
from operator import attrgetter

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Sum
from django.template.loader import render_to_string
from django.urls import reverse

from ledger.models import LedgerEvent
from registry.emails import preferences_url
from registry.models import EmailEvent, Membership, User
from registry.selectors import organization_link
from utilities.csv_upload import errors_csv
from utilities.display import count_text
from utilities.time_zones import in_time_zone

from .models import Transfer, TransferNotification
from .signals import transfer_event_owed

ITEMS_IN_EMAIL = 50  # a mass transfer can hold thousands; the transfer page and summary hold them all
SUBJECTS = {
    LedgerEvent.Kind.TRANSFER_INITIATED: "Transfer {id} {status}",
    LedgerEvent.Kind.TRANSFER_ACCEPTED: "Transfer {id} was accepted",
    LedgerEvent.Kind.TRANSFER_REJECTED: "Transfer {id} was rejected",
    LedgerEvent.Kind.TRANSFER_WITHDRAWN: "Transfer {id} was withdrawn",
    LedgerEvent.Kind.TRANSFER_EXPIRED: "Transfer {id} expired",
    LedgerEvent.Kind.EXPORT_CONFIRMED: "Export {id} was accepted by the receiving system",
    LedgerEvent.Kind.EXPORT_REJECTED: "Export {id} was rejected by the receiving system",
    LedgerEvent.Kind.RETIREMENT: "Certificates retired: retirement {reference}",
}


# Which of the emails a user can turn off (registry.models.EmailEvent) each step's email is, for
# each audience: a new transfer is the submitter's confirmation and the recipient's "waiting for us".
EMAIL_EVENTS = {
    LedgerEvent.Kind.TRANSFER_INITIATED: {"sender": EmailEvent.TRANSFER_SENT,
                                          "recipient": EmailEvent.TRANSFER_RECEIVED},
    LedgerEvent.Kind.TRANSFER_ACCEPTED: EmailEvent.TRANSFER_ACCEPTED,
    LedgerEvent.Kind.TRANSFER_REJECTED: EmailEvent.TRANSFER_REJECTED,
    LedgerEvent.Kind.TRANSFER_WITHDRAWN: EmailEvent.TRANSFER_WITHDRAWN,
    LedgerEvent.Kind.TRANSFER_EXPIRED: EmailEvent.TRANSFER_EXPIRED,
    LedgerEvent.Kind.EXPORT_CONFIRMED: EmailEvent.EXPORT_DECIDED,
    LedgerEvent.Kind.EXPORT_REJECTED: EmailEvent.EXPORT_DECIDED,
    LedgerEvent.Kind.RETIREMENT: EmailEvent.RETIREMENT,
}


def email_event(event_kind: str, audience: str) -> str:
    events = EMAIL_EVENTS[event_kind]
    return events[audience] if isinstance(events, dict) else events


def _members(organization_id: int, roles, email: str) -> list[User]:
    """The organization's members in `roles` who still want this email."""
    return list(
        User.objects.filter(
            User.wanting_email(email),
            is_active=True,
            memberships__organization_id=organization_id,
            memberships__role__in=roles,
        ).only("email", "time_zone")
    )


def _actors(organization_id: int, email: str) -> list[User]:
    """The organization's traders and managers who still want this email."""
    return _members(organization_id, Membership.ROLES_THAT_TRANSFER, email)


def transfer_recipients(transfer: Transfer, event_kind: str) -> Iterator[tuple[str, str, list[str]]]:
    """Who hears of this step: the sender's submitter, and the recipient's traders and managers (of
    a retirement, the organization's managers), each unless they turned this email off (read now, as
    it is sent: a change made while it waited in the outbox counts); as (audience, time zone,
    addresses), one email each, written in that zone."""
    submitter = transfer.created_by
    audiences = {"sender": [submitter] if submitter.wants_email(email_event(event_kind, "sender")) else []}
    if transfer.kind == Transfer.Kind.RETIREMENT:  # the organization's managers hear of every retirement
        managers = _members(transfer.organization_id, [Membership.Role.MANAGER], email_event(event_kind, "managers"))
        audiences["managers"] = [user for user in managers if user.pk != transfer.created_by_id]
    if transfer.kind == Transfer.Kind.ORGANIZATION:
        audiences["recipient"] = _actors(transfer.recipient_organization_id, email_event(event_kind, "recipient"))
    zone = attrgetter("time_zone")
    for audience, users in audiences.items():
        for time_zone, group in itertools.groupby(sorted(users, key=zone), key=zone):
            yield audience, time_zone, [user.email for user in group]


def transfer_notify(*, transfer_id: int, event_kind: str) -> int:
    transfer = (
        Transfer.objects.select_related("organization", "recipient_organization", "created_by",
                                        "tracking_system", "destination_account", "retirement__option")
        .filter(pk=transfer_id).first()
    )
    if transfer is None or event_kind not in SUBJECTS:
        return 0
    retirement = getattr(transfer, "retirement", None)
    subject = f"[{settings.REGISTRY_NAME}] " + SUBJECTS[event_kind].format(
        id=transfer.pk, status=transfer.get_status_display().lower(),
        reference=retirement.reference if retirement else "",
    )
    items = list(transfer.items.select_related("batch__certificate__generator")[:ITEMS_IN_EMAIL])
    item_count = transfer.items.count() if len(items) == ITEMS_IN_EMAIL else len(items)
    sent = 0
    for audience, time_zone, addresses in transfer_recipients(transfer, event_kind):
        context = {"transfer": transfer, "items": items, "more_items": item_count - len(items),
                   "audience": audience, "event_kind": event_kind,
                   "retirement_facts": retirement.facts() if retirement else [],
                   "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url(),
                   "url": organization_link(settings.SITE_URL + reverse("transfers:detail", args=[transfer.pk]),
                                            transfer.recipient_organization if audience == "recipient"
                                            else transfer.organization)}
        with in_time_zone(time_zone):
            body = render_to_string("transfers/email/transfer.txt", context)
            html = render_to_string("transfers/email/transfer.html", context)
        message = EmailMultiAlternatives(subject=subject, body=body, to=addresses)
        message.attach_alternative(html, "text/html")
        message.send()
        sent += 1
    return sent


def transfer_notifications_send(*, limit: int = 1000) -> int:
    """Send the emails owed, oldest first, each in its own transaction: the row is locked (workers
    running this at once skip each other's rows), the email sent, the row deleted. A failure leaves
    the row for the next run, so an email is sent at least once. The apps above hear of each row in
    its transaction (transfer_event_owed: webhooks owes its deliveries there, exactly once)."""
    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            owed = TransferNotification.objects.select_for_update(skip_locked=True).order_by("pk").first()
            if owed is None:
                break
            transfer_event_owed.send(sender=Transfer, transfer_id=owed.transfer_id, event_kind=owed.event_kind,
                                     occurred_at=owed.created_at)
            transfer_notify(transfer_id=owed.transfer_id, event_kind=owed.event_kind)
            TransferNotification.objects.filter(pk=owed.pk).delete()
            sent += 1
    return sent


ERRORS_IN_BODY = 500


def mass_upload_notify(*, upload_id: int) -> int:
    """One email to the uploader: every error (row, column, value, message), or the transfers made."""
    from .models import MassTransferUpload

    upload = MassTransferUpload.objects.select_related("uploaded_by", "organization").filter(pk=upload_id).first()
    if upload is None or upload.status not in (MassTransferUpload.Status.FAILED, MassTransferUpload.Status.COMPLETED):
        return 0
    if not upload.uploaded_by.wants_email(EmailEvent.UPLOAD_FINISHED):
        return 0
    failed = upload.status == MassTransferUpload.Status.FAILED
    transfers = list(upload.transfers.select_related("recipient_organization", "destination_account",
                                                     "retirement__option")
                     .annotate(total_quantity=Sum("items__batch__quantity")).order_by("pk"))
    context = {"failed": failed, "transfers": transfers,
               "url": organization_link(settings.SITE_URL + reverse("transfers:mass_detail", args=[upload.pk]),
                                        upload.organization)}
    kind = upload.get_kind_display().lower()
    subject = (f"[{settings.REGISTRY_NAME}] Mass {kind} {upload.filename}: "
               + (f"{count_text(len(upload.errors), 'error')}, {upload.nothing_done.lower()}" if failed
                  else f"{count_text(len(transfers), kind)} made"))
    return upload_email_send(upload, subject=subject, template="transfers/email/mass_upload",
                             attachment=f"errors-upload-{upload.pk}.csv", context=context)


def upload_email_send(upload, *, subject: str, template: str, attachment: str, context: dict) -> int:
    """The email to an upload's uploader, in their time zone: `template` .txt and .html, with
    `context` and the upload's errors (the first ERRORS_IN_BODY in the body, every one in the
    attached CSV `attachment`)."""
    context = {**context, "upload": upload, "errors": upload.errors[:ERRORS_IN_BODY],
               "more_errors": max(0, len(upload.errors) - ERRORS_IN_BODY),
               "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url()}
    with in_time_zone(upload.uploaded_by.time_zone):
        body = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, to=[upload.uploaded_by.email], body=body)
    message.attach_alternative(html, "text/html")
    if upload.errors:
        message.attach(attachment, errors_csv(upload.errors), "text/csv")
    message.send()
    return 1
