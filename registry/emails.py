"""The emails of the participants app: an invitation to join an organization; where every email's reader
chooses which emails they get."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from utilities.time_zones import in_time_zone

from .models import Invitation, User


def invitation_email_send(*, invitation: Invitation, token: str) -> None:
    """The invitation with its link (built on SITE_URL, as every email's links are), in the invitee's
    time zone when they already have an account, else the registry's."""
    existing = User.objects.filter(email__iexact=invitation.email).only("time_zone").first()
    context = {"invitation": invitation, "organization": invitation.organization,
               "invited_by": invitation.invited_by, "existing": existing is not None,
               "registry_name": settings.REGISTRY_NAME,
               "url": settings.SITE_URL + reverse("invitation", args=[token])}
    subject = f"[{settings.REGISTRY_NAME}] You are invited to join {invitation.organization.name}"
    with in_time_zone(existing.time_zone if existing else None):
        body = render_to_string("registry/email/invitation.txt", context)
        html = render_to_string("registry/email/invitation.html", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()


def preferences_url() -> str:
    """Where every email says its reader can choose which emails they get."""
    return settings.SITE_URL + reverse("settings") + "#emails"
