"""Registry staff's reminder of the generator eligibilities about to end (eligibilities.expiring: one a
day at most, certificates.generator_services.eligibilities_remind), emailed to every active staff user."""

from django.conf import settings
from django.urls import reverse

from certificates.models import GeneratorEligibility
from registry.emails import emails_send, staff_for_email
from utilities.display import count_text


def eligibilities_expiring_email_send(*, eligibility_ids: list[int]) -> int:
    """One email to registry staff listing the eligibilities (as they are now: one changed since the
    reminder shows its new dates), soonest first, each with its generator, owner, certification number
    and a link to it in the admin site. Returns how many emails were sent."""
    eligibilities = list(GeneratorEligibility.objects.filter(pk__in=eligibility_ids)
                         .select_related("generator__organization").order_by("good_through", "generator__code", "pk"))
    staff = staff_for_email()
    if not eligibilities or not staff:
        return 0
    for eligibility in eligibilities:
        eligibility.url = settings.SITE_URL + reverse("admin:certificates_generatoreligibility_change",
                                                      args=[eligibility.pk])
    ending = count_text(len(eligibilities), "generator eligibility", "generator eligibilities")
    subject = f"[{settings.REGISTRY_NAME}] {ending} ending within {settings.ELIGIBILITY_REMINDER_DAYS} days"
    context = {"eligibilities": eligibilities, "days": settings.ELIGIBILITY_REMINDER_DAYS,
               "registry_name": settings.REGISTRY_NAME,
               "list_url": settings.SITE_URL + reverse("admin:certificates_generatoreligibility_changelist")}
    return emails_send(staff, subject=subject, template="certificates/email/eligibilities_expiring", context=context)
