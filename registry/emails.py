"""The emails of the participants app: an invitation to join an organization; where every email's reader
chooses which emails they get; and what every app's emails share: who of an organization wants an
email, and one email sent to each time zone's readers, written in it."""

import itertools
from collections.abc import Iterable, Iterator
from operator import attrgetter

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse

from utilities.csv_upload import errors_csv
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
    email_send(subject=subject, template="registry/email/invitation", context=context,
               time_zone=existing.time_zone if existing else None, addresses=[invitation.email])


def preferences_url() -> str:
    """Where every email says its reader can choose which emails they get."""
    return settings.SITE_URL + reverse("settings") + "#emails"


def members_wanting_email(organization_ids: Iterable[int], roles, email: str | None) -> dict[int, list[User]]:
    """The organizations' active members in `roles` who have not turned this email off
    (registry.models.EmailEvent; None: an email nobody can turn off), by organization id, in one query."""
    wanting = User.wanting_email(email) if email is not None else Q()
    members: dict[int, list[User]] = {}
    for user in (User.objects.filter(wanting, is_active=True,
                                     memberships__organization_id__in=list(organization_ids),
                                     memberships__role__in=roles)
                 .annotate(member_of=F("memberships__organization_id")).only("email", "time_zone")):
        members.setdefault(user.member_of, []).append(user)
    return members


def staff_for_email() -> list[User]:
    """Registry staff who can sign in: the readers of the registry's own emails (reminders of what staff keep)."""
    return list(User.objects.filter(is_staff=True, is_active=True).only("email", "time_zone"))


def addresses_by_time_zone(users: Iterable[User]) -> Iterator[tuple[str, list[str]]]:
    """(time zone, addresses): whom to send one email each, written in that zone."""
    zone = attrgetter("time_zone")
    for time_zone, group in itertools.groupby(sorted(users, key=attrgetter("time_zone", "email")), key=zone):
        yield time_zone, [user.email for user in group]


def emails_send(users: Iterable[User], *, subject: str, template: str, context: dict,
                attachments: Iterable[tuple[str, str | bytes, str]] = ()) -> int:
    """The same email to `users`, one to each time zone's readers, written in it, with `attachments` as
    email_send takes them. Returns how many were sent."""
    sent, attachments = 0, list(attachments)
    for time_zone, addresses in addresses_by_time_zone(users):
        email_send(subject=subject, template=template, context=context, time_zone=time_zone, addresses=addresses,
                   attachments=attachments)
        sent += 1
    return sent


def email_send(*, subject: str, template: str, context: dict, time_zone: str | None, addresses: list[str],
               attachments: Iterable[tuple[str, str | bytes, str]] = ()) -> None:
    """One email to `addresses`: `template` .txt and .html rendered with `context`, written in
    `time_zone`, with `attachments` as (filename, content, MIME type)."""
    with in_time_zone(time_zone):
        body = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=addresses)
    message.attach_alternative(html, "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    message.send()


ERRORS_IN_BODY = 500


def upload_email_send(upload, *, subject: str, template: str, attachment: str, context: dict) -> int:
    """The email to an upload's uploader (a mass transfer's, a generation data file's), in their time
    zone: `template` .txt and .html, with `context` and the upload's errors (the first ERRORS_IN_BODY
    in the body, every one in the attached CSV `attachment`)."""
    context = {**context, "upload": upload, "errors": upload.errors[:ERRORS_IN_BODY],
               "more_errors": max(0, len(upload.errors) - ERRORS_IN_BODY),
               "registry_name": settings.REGISTRY_NAME, "preferences_url": preferences_url()}
    email_send(subject=subject, template=template, context=context, time_zone=upload.uploaded_by.time_zone,
               addresses=[upload.uploaded_by.email],
               attachments=[(attachment, errors_csv(upload.errors), "text/csv")] if upload.errors else ())
    return 1
