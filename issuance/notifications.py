"""The emails of issuance: to the uploader of generation data when the worker is done with the file
(every error, or the months recorded: the shape of the mass upload's email, notifications.transfers);
and to an organization's members when certificates are issued to it."""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from certificates.models import CertificateBatch
from instructions.models import InstructionRun
from registry.emails import (
    addresses_by_time_zone,
    email_send,
    members_wanting_email,
    preferences_url,
    upload_email_send,
)
from registry.models import EmailEvent, Membership, Organization
from registry.selectors import organization_link
from utilities.display import count_text

from .models import GenerationUpload, Issuance


def generation_upload_notify(*, upload_id: int) -> int:
    upload = GenerationUpload.objects.select_related("uploaded_by", "organization").filter(pk=upload_id).first()
    if upload is None or upload.status not in (GenerationUpload.Status.FAILED, GenerationUpload.Status.COMPLETED):
        return 0
    if not upload.uploaded_by.wants_email(EmailEvent.UPLOAD_FINISHED):
        return 0
    failed = upload.status == GenerationUpload.Status.FAILED
    reports = list(upload.reports.select_related("generator").order_by("generator__code", "month"))
    context = {"failed": failed, "reports": reports,
               "url": organization_link(settings.SITE_URL + reverse("issuance:upload", args=[upload.pk]),
                                        upload.organization)}
    subject = (f"[{settings.REGISTRY_NAME}] Generation upload {upload.filename}: "
               + (f"{count_text(len(upload.errors), 'error')}, {upload.nothing_done.lower()}" if failed
                  else f"{count_text(len(reports), 'month')} recorded"))
    return upload_email_send(upload, subject=subject, template="issuance/email/upload",
                             attachment=f"errors-generation-upload-{upload.pk}.csv", context=context)


# A worker claims an organization's issuances for its email, outside any transaction while it
# sends; claimed ones not told after this long (the worker died) are owed again.
NOTICE_LEASE = datetime.timedelta(minutes=10)
ISSUANCES_IN_EMAIL = 50  # a run can issue an organization's thousands of generators; its pages list them all


def _owed(now: datetime.datetime):
    """The issuances whose email is owed: certificates issued, not told, not claimed by a live worker."""
    return Issuance.objects.filter(Q(notice_claimed_at__isnull=True) | Q(notice_claimed_at__lt=now - NOTICE_LEASE),
                                   told_at__isnull=True, quantity__gt=0)


def issuance_notices_send(*, limit: int = 100, now: datetime.datetime | None = None) -> int:
    """Email each organization what was issued to it: one email for its issuances not yet told (an
    issuance run's, its generators being issued in one transaction: services._chunks), to its managers
    and traders who want it (EmailEvent.CERTIFICATES_ISSUED), each time zone's in its own.

    The issuances not yet told are the outbox, written in the issuance's transaction. A worker
    claims an organization's (compare-and-swap on notice_claimed_at, in a short transaction; workers
    running this at once skip each other's), sends outside any transaction, then marks them told. A
    failure gives them back; a worker that dies leaves them claimed for NOTICE_LEASE, then owed again:
    sent at least once. Returns how many organizations were told."""
    told = 0
    for _ in range(limit):
        claimed_at = now or timezone.now()
        with transaction.atomic():
            first = (_owed(claimed_at).select_for_update(skip_locked=True, of=("self",))
                     .annotate(organization_id=F("generator__organization_id")).order_by("pk").first())
            if first is None:
                break
            claimed = list(_owed(claimed_at).select_for_update(skip_locked=True, of=("self",))
                           .filter(generator__organization_id=first.organization_id).order_by("pk")
                           .values_list("pk", flat=True))
            Issuance.objects.filter(pk__in=claimed).update(notice_claimed_at=claimed_at)
        try:
            issuance_notice_send(organization_id=first.organization_id, issuance_ids=claimed)
        except Exception:
            Issuance.objects.filter(pk__in=claimed, told_at__isnull=True).update(notice_claimed_at=None)
            raise
        Issuance.objects.filter(pk__in=claimed).update(told_at=timezone.now())
        told += 1
    return told


def issuance_notice_send(*, organization_id: int, issuance_ids: list[int]) -> int:
    """The email of these issuances to the organization's managers and traders who want it: which
    generators, which months, how many certificates into which account (the first
    ISSUANCES_IN_EMAIL, each with a link to its page, and how many more), whether its standing
    instructions moved some on; links to the Certificates and Generation pages. A fixed number of
    queries. Returns how many emails were sent."""
    users = members_wanting_email([organization_id], Membership.ROLES_THAT_TRANSFER,
                                  EmailEvent.CERTIFICATES_ISSUED).get(organization_id, [])
    if not users:
        return 0
    organization = Organization.objects.get(pk=organization_id)
    issuances = list(Issuance.objects.filter(pk__in=issuance_ids).select_related("generator", "certificate")
                     .order_by("generator__code", "month"))
    listed = issuances[:ISSUANCES_IN_EMAIL]
    certificate_ids = [issuance.certificate_id for issuance in listed]
    accounts = {batch.certificate_id: batch.account for batch in  # where each was issued: its first batch
                CertificateBatch.objects.filter(certificate_id__in=certificate_ids, parent__isnull=True)
                .select_related("account").order_by("-pk")}
    moved = set(InstructionRun.objects.filter(certificate_id__in=certificate_ids, status=InstructionRun.Status.APPLIED,
                                              instruction__organization_id=organization_id)
                .values_list("certificate_id", flat=True))
    for issuance in listed:
        issuance.account = accounts.get(issuance.certificate_id)
        issuance.moved_on = issuance.certificate_id in moved
        issuance.url = organization_link(settings.SITE_URL + reverse("issuance:issuance", args=[issuance.pk]),
                                         organization)
    quantity = sum(issuance.quantity for issuance in issuances)
    context = {"organization": organization, "issuances": listed,
               "more": len(issuances) - len(listed), "quantity": quantity,
               "issued_at": min(issuance.issued_at for issuance in issuances),
               "dashboard_url": organization_link(settings.SITE_URL + reverse("dashboard:certificates"), organization),
               "generation_url": organization_link(settings.SITE_URL + reverse("issuance:reports"), organization),
               "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url()}
    subject = f"[{settings.REGISTRY_NAME}] {count_text(quantity, 'certificate')} issued to {organization.name}"
    sent = 0
    for time_zone, addresses in addresses_by_time_zone(users):
        email_send(subject=subject, template="issuance/email/issued", context=context, time_zone=time_zone,
                   addresses=addresses)
        sent += 1
    return sent
