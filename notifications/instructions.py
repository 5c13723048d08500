"""The email to an organization's managers when a standing instruction was skipped because none of
its destinations could receive (or its creator may no longer transfer): one per organization and
issuance transaction (instructions.skipped, recorded with the runs)."""

from django.conf import settings
from django.urls import reverse

from instructions.models import InstructionRun
from registry.emails import email_send, members_wanting_email
from registry.models import Membership, Organization
from registry.selectors import organization_link
from utilities.display import count_text


def instruction_notice_send(*, organization_id: int, run_ids: list[int]) -> int:
    """The skipped runs' email to the organization's managers. Returns how many emails were sent."""
    organization = Organization.objects.get(pk=organization_id)
    runs = list(InstructionRun.objects.filter(pk__in=run_ids)
                .select_related("instruction__generator", "certificate").order_by("pk"))
    managers = [user.email for user in members_wanting_email([organization_id], [Membership.Role.MANAGER], None)
                .get(organization_id, [])]
    if not managers or not runs:
        return 0
    context = {"organization": organization, "runs": runs, "registry_name": settings.REGISTRY_NAME,
               "url": organization_link(settings.SITE_URL + reverse("instructions:list"), organization)}
    subject = (f"[{settings.REGISTRY_NAME}] {count_text(len(runs), 'standing instruction run')} "
               "skipped: the certificates stay where they were issued")
    email_send(subject=subject, template="instructions/email/skipped", context=context, time_zone=None,
               addresses=sorted(managers))
    return 1
