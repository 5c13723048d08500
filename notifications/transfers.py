"""Emails to both parties of a transfer, one per step (a domain event the transfer services record),
sent by the emails consumer after the step commits. Each is written in its recipients' time zone.

A mass upload's new transfers and retirements are the exception: its uploader hears of them all in
the upload's own email (mass_upload_notify), and each other organization concerned in one email
for all of them (mass_transfers_notify), however many rows the file had: both are sent for the
upload's own event (upload.finished), and the events of its transfers' submission are not emailed
one by one. Their later steps (accepted, rejected, ...) are, as any transfer's."""

from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Sum
from django.urls import reverse

from certificates.units import HeldOf, Quantities, Unit
from events.models import Event
from mass_uploads.models import MassTransferUpload
from registry.emails import (
    addresses_by_time_zone,
    email_send,
    emails_send,
    members_wanting_email,
    preferences_url,
    staff_for_email,
    upload_email_send,
)
from registry.models import EmailEvent, Membership, User
from registry.selectors import organization_link
from transfers.models import Transfer
from utilities.display import count_text

ITEMS_IN_EMAIL = 50  # a mass transfer can hold thousands; the transfer page and summary hold them all
SUBJECTS = {
    Event.Kind.TRANSFER_SUBMITTED: "Transfer {id} {status}",
    Event.Kind.TRANSFER_ACCEPTED: "Transfer {id} was accepted",
    Event.Kind.TRANSFER_REJECTED: "Transfer {id} was rejected",
    Event.Kind.TRANSFER_WITHDRAWN: "Transfer {id} was withdrawn",
    Event.Kind.TRANSFER_EXPIRED: "Transfer {id} expired",
    Event.Kind.EXPORT_CONFIRMED: "Export {id} was accepted by the receiving system",
    Event.Kind.EXPORT_REJECTED: "Export {id} was rejected by the receiving system",
    Event.Kind.RETIREMENT_MADE: "Certificates retired: retirement {reference}",
    Event.Kind.IMPORT_RECORDED: "Import {id}: certificates from another tracking system are waiting for you",
    Event.Kind.IMPORT_ACCEPTED: "Import {id} was accepted",
    Event.Kind.IMPORT_REJECTED: "Import {id} was rejected: return its certificates to the source",
}


# Which of the emails a user can turn off (registry.models.EmailEvent) each step's email is, for
# each audience: a new transfer is the submitter's confirmation and the recipient's "waiting for us".
EMAIL_EVENTS = {
    Event.Kind.TRANSFER_SUBMITTED: {"sender": EmailEvent.TRANSFER_SENT,
                                          "recipient": EmailEvent.TRANSFER_RECEIVED},
    Event.Kind.TRANSFER_ACCEPTED: EmailEvent.TRANSFER_ACCEPTED,
    Event.Kind.TRANSFER_REJECTED: EmailEvent.TRANSFER_REJECTED,
    Event.Kind.TRANSFER_WITHDRAWN: EmailEvent.TRANSFER_WITHDRAWN,
    Event.Kind.TRANSFER_EXPIRED: EmailEvent.TRANSFER_EXPIRED,
    Event.Kind.EXPORT_CONFIRMED: EmailEvent.EXPORT_DECIDED,
    Event.Kind.EXPORT_REJECTED: EmailEvent.EXPORT_DECIDED,
    Event.Kind.RETIREMENT_MADE: EmailEvent.RETIREMENT,
    Event.Kind.IMPORT_RECORDED: EmailEvent.TRANSFER_RECEIVED,
    Event.Kind.IMPORT_ACCEPTED: EmailEvent.TRANSFER_ACCEPTED,
    Event.Kind.IMPORT_REJECTED: EmailEvent.TRANSFER_REJECTED,
}


def email_event(event_kind: str, audience: str) -> str:
    events = EMAIL_EVENTS[event_kind]
    return events[audience] if isinstance(events, dict) else events


def _members(organization_id: int, roles, email: str) -> list[User]:
    """The organization's members in `roles` who still want this email."""
    return members_wanting_email([organization_id], roles, email).get(organization_id, [])


def _actors(organization_id: int, email: str) -> list[User]:
    """The organization's traders and managers who still want this email."""
    return _members(organization_id, Membership.ROLES_THAT_TRANSFER, email)


def transfer_recipients(transfer: Transfer, event_kind: str) -> Iterator[tuple[str, str, list[str]]]:
    """Who hears of this step: the sender's submitter, and the recipient's traders and managers (of
    a retirement, the organization's managers), each unless they turned this email off (read now, as
    it is sent: a change made while it waited in the outbox counts); as (audience, time zone,
    addresses), one email each, written in that zone."""
    submitter = transfer.created_by
    if transfer.kind == Transfer.Kind.IMPORT:
        yield from _import_recipients(transfer, event_kind)
        return
    audiences = {"sender": [submitter] if submitter.wants_email(email_event(event_kind, "sender")) else []}
    if transfer.kind == Transfer.Kind.RETIREMENT:  # the organization's managers hear of every retirement
        managers = _members(transfer.organization_id, [Membership.Role.MANAGER], email_event(event_kind, "managers"))
        audiences["managers"] = [user for user in managers if user.pk != transfer.created_by_id]
    if transfer.kind == Transfer.Kind.ORGANIZATION:
        audiences["recipient"] = _actors(transfer.recipient_organization_id, email_event(event_kind, "recipient"))
    for audience, users in audiences.items():
        for time_zone, addresses in addresses_by_time_zone(users):
            yield audience, time_zone, addresses


def _import_recipients(transfer: Transfer, event_kind: str) -> Iterator[tuple[str, str, list[str]]]:
    """An import's: the recipient's traders and managers hear of each step (its stand-in sender has no
    members); of a rejection, registry staff too, who return the voided certificates to the source."""
    audiences = {"recipient": _actors(transfer.recipient_organization_id, email_event(event_kind, "recipient"))}
    if event_kind == Event.Kind.IMPORT_REJECTED:
        audiences["staff"] = staff_for_email()
    for audience, users in audiences.items():
        for time_zone, addresses in addresses_by_time_zone(users):
            yield audience, time_zone, addresses


def _url(transfer: Transfer, audience: str) -> str:
    """The link an email gives: the transfer's page, for the organization reading it; staff's import, in the admin."""
    if audience == "staff":
        first = transfer.import_records.earliest("pk")
        return settings.SITE_URL + reverse("admin:imports_import_change", args=[first.pk])
    return organization_link(settings.SITE_URL + reverse("transfers:detail", args=[transfer.pk]),
                             transfer.recipient_organization if audience == "recipient" else transfer.organization)


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
    items = list(transfer.items.select_related("batch__certificate__generator",
                                               "batch__certificate__imported_from")[:ITEMS_IN_EMAIL])
    item_count = transfer.items.count() if len(items) == ITEMS_IN_EMAIL else len(items)
    sent = 0
    for audience, time_zone, addresses in transfer_recipients(transfer, event_kind):
        context = {"transfer": transfer, "items": items, "more_items": item_count - len(items),
                   "audience": audience, "event_kind": event_kind,
                   "retirement_facts": retirement.facts() if retirement else [],
                   "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url(),
                   "url": _url(transfer, audience)}
        email_send(subject=subject, template="transfers/email/transfer", context=context, time_zone=time_zone,
                   addresses=addresses)
        sent += 1
    return sent


# The steps a mass upload's own event groups in its emails (see the module's docstring).
GROUPED_BY_UPLOAD = {Event.Kind.TRANSFER_SUBMITTED, Event.Kind.RETIREMENT_MADE}


def mass_transfers_notify(*, upload_id: int) -> int:
    """The emails of a mass upload's new transfers or retirements, besides the upload's own email to
    its uploader, which lists them all:

    - to each organization sent certificates, one email to its traders and managers: the transfers
      waiting for it, listed (up to ITEMS_IN_EMAIL of them; more are counted, with a link to its
      Pending tab), each to accept or reject;
    - of retirements, one email to the uploading organization's other managers (as they hear of
      every retirement), listed or counted the same way, with a link to its Retired tab.

    Each only to those who want it (read now), one email per time zone. A fixed number of queries,
    however many transfers. Returns how many emails were sent."""
    upload = MassTransferUpload.objects.select_related("organization", "uploaded_by").filter(pk=upload_id).first()
    if upload is None:
        return 0
    transfers = list(Transfer.objects.filter(mass_upload_id=upload_id)
                     .select_related("recipient_organization", "destination_account", "retirement__option")
                     .annotate(**TOTALS, batch_count=Count("items")).order_by("pk"))
    for transfer in transfers:
        transfer.certificates = certificates_of(transfer)
    if not transfers:  # it failed: the uploader's email says why
        return 0
    event_kind = Event.Kind.RETIREMENT_MADE if upload.is_retirement else Event.Kind.TRANSFER_SUBMITTED
    if event_kind == Event.Kind.RETIREMENT_MADE:
        managers = _members(upload.organization_id, [Membership.Role.MANAGER], email_event(event_kind, "managers"))
        audiences = [("managers", upload.organization,
                      [user for user in managers if user.pk != upload.uploaded_by_id], transfers)]
    else:
        received: dict[int, list[Transfer]] = {}
        for transfer in transfers:
            if transfer.kind == Transfer.Kind.ORGANIZATION:
                received.setdefault(transfer.recipient_organization_id, []).append(transfer)
        members = members_wanting_email(received, Membership.ROLES_THAT_TRANSFER,
                                        email_event(event_kind, "recipient"))
        audiences = [("recipient", group[0].recipient_organization, members.get(organization_id, []), group)
                     for organization_id, group in received.items()]
    sent = 0
    for audience, organization, users, group in audiences:
        subject, context = _mass_transfers_email(upload, audience, organization, group)
        sent += emails_send(users, subject=subject, template="transfers/email/mass_transfers", context=context)
    return sent


# A transfer's certificates, kept per unit (certificates.units): an email says "5 certificates (MWh) and
# 1,000,000 hourly certificates (Wh)", never 1,000,005 certificates of one kind.
TOTALS = {"total_recs": Sum(HeldOf(Unit.MWH, "items__batch__quantity", "items__batch__certificate__unit")),
          "total_wh": Sum(HeldOf(Unit.WH, "items__batch__quantity", "items__batch__certificate__unit"))}


def certificates_of(transfer: Transfer) -> Quantities:
    """A transfer annotated with TOTALS: its certificates of each unit."""
    return Quantities(transfer.total_recs or 0, transfer.total_wh or 0)


def _mass_transfers_email(upload: MassTransferUpload, audience: str, organization,
                          transfers: list[Transfer]) -> tuple[str, dict]:
    """The subject and context of one organization's email of a mass upload's transfers."""
    count, first = len(transfers), transfers[0]
    sender = upload.organization
    if audience == "recipient":
        subject = (f"Transfer {first.pk} from {sender.name} is waiting for you to accept or reject it" if count == 1
                   else f"{count_text(count, 'transfer')} from {sender.name} are waiting for you to accept or "
                        "reject them")
        tab = "pending"
    else:
        subject = (SUBJECTS[Event.Kind.RETIREMENT_MADE].format(reference=first.retirement.reference) if count == 1
                   else f"Certificates retired: {count_text(count, 'retirement')} by the mass upload {upload.filename}")
        tab = "retired"
    listed = transfers if count <= ITEMS_IN_EMAIL else []
    for transfer in listed:
        transfer.url = organization_link(settings.SITE_URL + reverse("transfers:detail", args=[transfer.pk]),
                                         organization)
    context = {"audience": audience, "upload": upload, "sender": sender, "organization": organization,
               "count": count, "certificates": sum((transfer.certificates for transfer in transfers), Quantities()),
               "transfers": listed,
               "expires_at": min((t.expires_at for t in transfers if t.expires_at), default=None),
               "url": first.url if count == 1 else organization_link(
                   settings.SITE_URL + reverse("dashboard:certificates") + f"?tab={tab}", organization),
               "submitted_at": first.submitted_at, "registry_name": settings.REGISTRY_NAME,
               "preferences_url": preferences_url()}
    return f"[{settings.REGISTRY_NAME}] {subject}", context


def mass_upload_notify(*, upload_id: int) -> int:
    """One email to the uploader: every error (row, column, value, message), or the transfers made
    (the first ITEMS_IN_EMAIL of them, and how many more; the upload's page lists them all). It
    stands for the emails each transfer's submitter would get (see mass_transfers_notify)."""
    upload = MassTransferUpload.objects.select_related("uploaded_by", "organization").filter(pk=upload_id).first()
    if upload is None or upload.status not in (MassTransferUpload.Status.FAILED, MassTransferUpload.Status.COMPLETED):
        return 0
    if not upload.uploaded_by.wants_email(EmailEvent.UPLOAD_FINISHED):
        return 0
    failed = upload.status == MassTransferUpload.Status.FAILED
    transfers = list(upload.transfers.select_related("recipient_organization", "destination_account",
                                                     "retirement__option")
                     .annotate(**TOTALS).order_by("pk")[:ITEMS_IN_EMAIL])
    for transfer in transfers:
        transfer.certificates = certificates_of(transfer)
    transfer_count = upload.transfers.count() if len(transfers) == ITEMS_IN_EMAIL else len(transfers)
    context = {"failed": failed, "transfers": transfers, "transfer_count": transfer_count,
               "more_transfers": transfer_count - len(transfers),
               "url": organization_link(settings.SITE_URL + reverse("mass_uploads:detail", args=[upload.pk]),
                                        upload.organization)}
    kind = upload.get_kind_display().lower()
    subject = (f"[{settings.REGISTRY_NAME}] Mass {kind} {upload.filename}: "
               + (f"{count_text(len(upload.errors), 'error')}, {upload.nothing_done.lower()}" if failed
                  else f"{count_text(transfer_count, kind)} made"))
    return upload_email_send(upload, subject=subject, template="transfers/email/mass_upload",
                             attachment=f"errors-upload-{upload.pk}.csv", context=context)
