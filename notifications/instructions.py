"""The email to an organization's managers when a standing instruction was skipped because none of
its destinations could receive (or its creator may no longer transfer): one per organization and
issuance transaction (instructions.skipped, recorded with the runs)."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from instructions.models import InstructionRun
from registry.models import Membership, Organization, User
from registry.selectors import organization_link


def instruction_notice_send(*, organization_id: int, run_ids: list[int]) -> int:
    """The skipped runs' email to the organization's managers. Returns how many emails were sent."""
    organization = Organization.objects.get(pk=organization_id)
    runs = list(InstructionRun.objects.filter(pk__in=run_ids)
                .select_related("instruction__generator", "certificate").order_by("pk"))
    managers = list(User.objects.filter(is_active=True, memberships__organization=organization,
                                        memberships__role=Membership.Role.MANAGER).values_list("email", flat=True))
    if not managers or not runs:
        return 0
    context = {"organization": organization, "runs": runs, "registry_name": settings.REGISTRY_NAME,
               "url": organization_link(settings.SITE_URL + reverse("instructions:list"), organization)}
    subject = (f"[{settings.REGISTRY_NAME}] {len(runs)} standing instruction run{'' if len(runs) == 1 else 's'} "
               "skipped: the certificates stay where they were issued")
    message = EmailMultiAlternatives(subject=subject, to=sorted(managers),
                                     body=render_to_string("instructions/email/skipped.txt", context))
    message.attach_alternative(render_to_string("instructions/email/skipped.html", context), "text/html")
    message.send()
    return 1
