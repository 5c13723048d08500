"""An invitation to join a program, emailed to the invited organization's managers (program.invited)."""

from django.conf import settings
from django.urls import reverse

from programs.models import ProgramParticipation
from registry.emails import emails_send, members_wanting_email, preferences_url
from registry.models import Membership
from registry.selectors import organization_link


def program_invitation_email_send(*, participation_id: int) -> int:
    """The organization was invited to a program: its managers hear of it (an email nobody turns off:
    only a manager answers it), each group in its time zone, with a link to the page where they join
    or decline. An invitation already answered is not emailed."""
    participation = (ProgramParticipation.objects.select_related("program", "organization")
                     .filter(pk=participation_id, status=ProgramParticipation.Status.INVITED).first())
    if participation is None:
        return 0
    organization = participation.organization
    managers = members_wanting_email([organization.pk], [Membership.Role.MANAGER], None).get(organization.pk, [])
    subject = f"[{settings.REGISTRY_NAME}] {organization.name} is invited to join {participation.program.name}"
    context = {"participation": participation, "program": participation.program, "organization": organization,
               "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url(),
               "url": organization_link(settings.SITE_URL + reverse("programs:participation"), organization)}
    return emails_send(managers, subject=subject, template="programs/email/invited", context=context)
