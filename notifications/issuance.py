"""What was issued to an organization, emailed to its managers and traders who want it
(certificates.issued: one per organization and issuance transaction, an issuance run keeping an
organization's generators in one while they fit, issuance.adjustments.chunks_by_organization)."""

from django.conf import settings
from django.urls import reverse

from certificates.models import CertificateBatch
from instructions.models import InstructionRun
from issuance.models import Issuance
from registry.emails import emails_send, members_wanting_email, preferences_url
from registry.models import EmailEvent, Membership, Organization
from registry.selectors import organization_link
from utilities.display import count_text

ISSUANCES_IN_EMAIL = 50  # a run can issue an organization's thousands of generators; its pages list them all


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
    return emails_send(users, subject=subject, template="issuance/email/issued", context=context)
