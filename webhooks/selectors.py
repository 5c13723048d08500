import datetime

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from registry.models import Organization

from .models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


def endpoints_of(organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization).select_related("organization", "created_by")


def endpoint_of(organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint of the organization; another organization's is a 404."""
    return get_object_or_404(endpoints_of(organization), pk=endpoint_id)


def deliveries_recent(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return endpoint.deliveries.order_by("-created_at", "-pk")[:RECENT_DELIVERIES]


def delivery_of(organization: Organization, delivery_id: int) -> WebhookDelivery:
    """One delivery to an endpoint of the organization; another organization's is a 404."""
    return get_object_or_404(
        WebhookDelivery.objects.filter(endpoint__organization=organization).select_related("endpoint__organization"),
        pk=delivery_id)


def previous_secret_until(endpoint: WebhookEndpoint) -> datetime.datetime | None:
    """Until when the secret the last rotation replaced still signs (None: it signs no more)."""
    now = timezone.now()
    return endpoint.previous_secret_until if len(endpoint.secrets_signing(now)) > 1 else None


def paused_until(endpoint: WebhookEndpoint) -> datetime.datetime | None:
    """Until when nothing is sent to the endpoint, its receiver having asked to slow down (None: not paused)."""
    return endpoint.paused_until if endpoint.paused_until and endpoint.paused_until > timezone.now() else None
