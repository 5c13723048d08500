"""Registry staff's decisions on corrections of issued months (prior period adjustments), emailed to
the generators' owner's managers: issuance.adjusted (the corrections approved in one transaction, for
one organization) and correction.refused (one correction)."""

from django.conf import settings
from django.urls import reverse

from issuance.models import Correction
from registry.emails import emails_send, members_wanting_email, preferences_url
from registry.models import EmailEvent, Membership, Organization
from registry.selectors import organization_link
from utilities.display import count_text

CORRECTIONS_IN_EMAIL = 50  # a month's corrections for an organization's many generators; its pages list them all


def corrections_decided_email_send(*, organization_id: int, correction_ids: list[int]) -> int:
    """The email of these decided corrections to the organization's managers who want issuance emails:
    each month's total before and after, the difference and its effect (certificates issued, owed,
    voided), staff's note, and links to each month's page. Returns how many emails were sent."""
    managers = members_wanting_email([organization_id], [Membership.Role.MANAGER],
                                     EmailEvent.CERTIFICATES_ISSUED).get(organization_id, [])
    if not managers:
        return 0
    organization = Organization.objects.get(pk=organization_id)
    corrections = list(Correction.objects.filter(pk__in=correction_ids, generator__organization_id=organization_id)
                       .select_related("generator", "certificate").order_by("generator__code", "month"))
    if not corrections:
        return 0
    listed = corrections[:CORRECTIONS_IN_EMAIL]
    for correction in listed:
        correction.url = organization_link(
            settings.SITE_URL + reverse("issuance:issuance", args=[correction.issuance_id]) + "#corrections",
            organization)
    refused = all(correction.status == Correction.Status.REFUSED for correction in corrections)
    subject = (f"[{settings.REGISTRY_NAME}] "
               + (f"Correction of {corrections[0].generator.code} {corrections[0].period} refused" if refused
                  else f"{count_text(len(corrections), 'correction')} of issued months approved"))
    context = {"organization": organization, "corrections": listed, "more": len(corrections) - len(listed),
               "refused": refused, "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url(),
               "generation_url": organization_link(settings.SITE_URL + reverse("issuance:reports"), organization)}
    return emails_send(managers, subject=subject, template="issuance/email/corrections", context=context)
