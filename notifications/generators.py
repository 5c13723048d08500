"""Registry staff's decision on a generator, emailed to its organization's managers (generator.decided)."""

from django.conf import settings
from django.urls import reverse

from certificates.models import Generator
from registry.emails import emails_send, members_wanting_email, preferences_url
from registry.models import EmailEvent, Membership
from registry.selectors import organization_link


def generator_decision_email_send(*, generator_id: int) -> int:
    """Staff approved the generator or sent it back: its organization's managers hear of it (those who have
    not turned the email off), each group in its time zone, with the staff's note and a link to it."""
    generator = Generator.objects.select_related("organization").filter(pk=generator_id).first()
    if generator is None or generator.status not in (Generator.Status.APPROVED, Generator.Status.RETURNED):
        return 0
    managers = members_wanting_email([generator.organization_id], [Membership.Role.MANAGER],
                                     EmailEvent.GENERATOR_DECIDED).get(generator.organization_id, [])
    approved = generator.status == Generator.Status.APPROVED
    subject = (f"[{settings.REGISTRY_NAME}] Generator {generator.code} was "
               + ("approved" if approved else "sent back: see what to change"))
    context = {"generator": generator, "approved": approved, "registry_name": settings.REGISTRY_NAME,
               "preferences_url": preferences_url(),
               "url": organization_link(settings.SITE_URL + reverse("generators:detail", args=[generator.pk]),
                                        generator.organization)}
    return emails_send(managers, subject=subject, template="certificates/email/generator_decision", context=context)
