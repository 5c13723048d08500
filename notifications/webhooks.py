"""An endpoint the registry disabled, emailed to its organization's managers (webhook_endpoint.disabled)."""

from django.conf import settings
from django.urls import reverse

from registry.emails import emails_send, members_wanting_email
from registry.models import Membership
from registry.selectors import organization_link
from webhooks.models import WebhookEndpoint


def endpoint_disabled_email_send(*, endpoint_id: int) -> int:
    """The receiver answered 410 Gone and the registry disabled the endpoint: every manager of its
    organization hears of it (not optional: nothing more reaches their system until one enables it
    again), each group in its time zone, with the link to enable it. Nothing if it was enabled meanwhile."""
    endpoint = (WebhookEndpoint.objects.select_related("organization").defer("secret", "previous_secret")
                .filter(pk=endpoint_id, is_active=False).exclude(disabled_reason="").first())
    if endpoint is None:
        return 0
    managers = members_wanting_email([endpoint.organization_id], [Membership.Role.MANAGER], None).get(
        endpoint.organization_id, [])
    subject = f"[{settings.REGISTRY_NAME}] Webhook endpoint disabled: {endpoint.url} answered 410 Gone"
    context = {"endpoint": endpoint, "registry_name": settings.REGISTRY_NAME,
               "url": organization_link(settings.SITE_URL + reverse("webhooks:detail", args=[endpoint.pk]),
                                        endpoint.organization)}
    return emails_send(managers, subject=subject, template="webhooks/email/endpoint_disabled", context=context)
