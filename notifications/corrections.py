"""Corrections, emailed to the owner's managers: an issuance registry staff rolled back
(issuance.rolled_back), certificates they voided (certificates.voided). Nobody can turn these off:
certificates the organization held are gone, and the reason is the registry's record of why."""

from django.conf import settings
from django.urls import reverse

from certificates.models import CertificateBatch
from issuance.models import Issuance
from registry.emails import emails_send, members_wanting_email
from registry.models import Membership, Organization
from registry.selectors import organization_link
from utilities.display import count_text


def _managers(organization_id: int) -> list:
    return members_wanting_email([organization_id], [Membership.Role.MANAGER], None).get(organization_id, [])


def rollback_email_send(*, issuance_id: int) -> int:
    """The rollback of an issuance, to its generator's owner's managers: which generator and month,
    the certificates voided (serials, account), the reason, and that the month's generation report is
    submitted again for correction. Returns how many emails were sent."""
    issuance = (Issuance.objects.select_related("generator__organization", "certificate", "rolled_back_by")
                .filter(pk=issuance_id, rolled_back_at__isnull=False).first())
    if issuance is None:
        return 0
    organization = issuance.generator.organization
    managers = _managers(organization.pk)
    if not managers:
        return 0
    batch = (CertificateBatch.objects.select_related("account").filter(certificate_id=issuance.certificate_id,
                                                                     parent__isnull=True).first())
    context = {"issuance": issuance, "organization": organization, "account": batch.account if batch else None,
               "registry_name": settings.REGISTRY_NAME,
               "generation_url": organization_link(settings.SITE_URL + reverse("issuance:reports"), organization)}
    subject = (f"[{settings.REGISTRY_NAME}] Issuance rolled back: {issuance.generator.code} {issuance.period}, "
               f"{count_text(issuance.quantity, 'certificate')} voided")
    return emails_send(managers, subject=subject, template="issuance/email/rolled_back", context=context)


def voided_email_send(*, organization_id: int, batch_ids: list[int], reason: str) -> int:
    """Certificates registry staff voided, to the holding organization's managers: each batch (serials,
    account, generator, vintage) and the reason. Returns how many emails were sent."""
    managers = _managers(organization_id)
    if not managers:
        return 0
    organization = Organization.objects.get(pk=organization_id)
    batches = list(CertificateBatch.objects.filter(pk__in=batch_ids).select_related(
        "certificate__generator", "account").order_by("certificate__period", "certificate_id", "serial_start"))
    quantity = sum(batch.quantity for batch in batches)
    context = {"organization": organization, "batches": batches, "quantity": quantity, "reason": reason,
               "registry_name": settings.REGISTRY_NAME,
               "dashboard_url": organization_link(settings.SITE_URL + reverse("dashboard:certificates"),
                                                  organization)}
    subject = f"[{settings.REGISTRY_NAME}] {count_text(quantity, 'certificate')} voided by the registry"
    return emails_send(managers, subject=subject, template="certificates/email/voided", context=context)
