"""The email to an organization's managers when a standing instruction was skipped because none of
its destinations could receive (or its creator may no longer transfer): the skipped runs are the
outbox (InstructionRun.tell_owner without told_at), written in the issuance's transaction."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from registry.models import Membership, Organization, User
from registry.selectors import organization_link

from .models import InstructionRun


def instruction_notices_send(*, limit: int = 1000) -> int:
    """Send the notices owed, one email per organization, each organization in its own transaction:
    its owed runs are locked (workers running this at once skip each other's), the email sent to its
    managers, the runs marked told. A failure leaves them for the next run: sent at least once."""
    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            first = (InstructionRun.objects.select_for_update(skip_locked=True)
                     .filter(tell_owner=True, told_at__isnull=True).select_related("instruction")
                     .order_by("pk").first())
            if first is None:
                break
            organization = Organization.objects.get(pk=first.instruction.organization_id)
            runs = list(InstructionRun.objects.select_for_update(skip_locked=True, of=("self",))
                        .filter(tell_owner=True, told_at__isnull=True, instruction__organization=organization)
                        .select_related("instruction__generator", "certificate").order_by("pk"))
            _notice_send(organization, runs)
            InstructionRun.objects.filter(pk__in=[run.pk for run in runs]).update(told_at=timezone.now())
            sent += 1
    return sent


def _notice_send(organization: Organization, runs: list[InstructionRun]) -> None:
    managers = list(User.objects.filter(is_active=True, memberships__organization=organization,
                                        memberships__role=Membership.Role.MANAGER).values_list("email", flat=True))
    if not managers:
        return
    context = {"organization": organization, "runs": runs, "registry_name": settings.REGISTRY_NAME,
               "url": organization_link(settings.SITE_URL + reverse("instructions:list"), organization)}
    subject = (f"[{settings.REGISTRY_NAME}] {len(runs)} standing instruction run{'' if len(runs) == 1 else 's'} "
               "skipped: the certificates stay where they were issued")
    message = EmailMultiAlternatives(subject=subject, to=sorted(managers),
                                     body=render_to_string("instructions/email/skipped.txt", context))
    message.attach_alternative(render_to_string("instructions/email/skipped.html", context), "text/html")
    message.send()
