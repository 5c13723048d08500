from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.htmx import HtmxHttpRequest, htmx_partial, htmx_redirect
from utilities.shown_once import no_store, shown_once_keep, shown_once_take

from .forms import WebhookEndpointForm
from .models import WebhookEndpoint
from .selectors import (
    deliveries_recent,
    delivery_of,
    endpoint_of,
    endpoints_of,
    paused_until,
    previous_secret_until,
)
from .services import (
    webhook_delivery_resend,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_set_active,
)
from .signing import RECEIVER_SNIPPET


def _secret_keep(request: HtmxHttpRequest, endpoint: WebhookEndpoint, secret: str, *, created: bool) -> HttpResponse:
    """After a registration or a rotation: the secret kept for the one page that shows it, where this
    answer redirects (a reload of that page shows it no more, and acts on nothing)."""
    shown_once_keep(request, "webhook-secret", {"endpoint": endpoint.pk, "secret": secret, "created": created})
    return htmx_redirect(request, reverse("webhooks:secret", args=[endpoint.pk]))


def _endpoint_managed(request: HtmxHttpRequest, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint of the current organization, for one of its managers (others: 403; another
    organization's endpoint: 404)."""
    membership = membership_required(request, manage=True)
    return endpoint_of(membership.organization, endpoint_id)


@login_required
def endpoints(request: HtmxHttpRequest) -> HttpResponse:
    """The organization's webhook endpoints; a manager registers one here (POST)."""
    membership = membership_required(request, manage=True)
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = webhook_endpoint_create(organization=membership.organization, user=request.user,
                                                       url=form.cleaned_data["url"],
                                                       event_types=form.cleaned_data["event_types"])
        except ServiceError as error:
            form.add_error("url", str(error))
        else:
            return _secret_keep(request, endpoint, secret, created=True)
    return render(request, "webhooks/list.html", {
        "endpoints": endpoints_of(membership.organization), "form": form,
        "max_endpoints": settings.WEBHOOKS_MAX_ENDPOINTS, "retry_hours": settings.WEBHOOKS_RETRY_HOURS,
        "snippet": RECEIVER_SNIPPET,
        # In development, how to try a receiver on this machine (http and local addresses are refused).
        "development": settings.DEBUG, "allowed_local_hosts": settings.WEBHOOKS_ALLOW_HTTP_HOSTS,
    }, status=400 if form.errors else 200)


@login_required
def endpoint_detail(request: HtmxHttpRequest, endpoint_id: int) -> HttpResponse:
    """One endpoint and its latest deliveries; the Refresh link swaps in just the deliveries."""
    endpoint = _endpoint_managed(request, endpoint_id)
    template = "webhooks/detail.html#deliveries" if htmx_partial(request) else "webhooks/detail.html"
    return render(request, template, {"endpoint": endpoint, "deliveries": deliveries_recent(endpoint),
                                      "retry_hours": settings.WEBHOOKS_RETRY_HOURS,
                                      "grace_hours": settings.WEBHOOKS_SECRET_GRACE_HOURS,
                                      "previous_secret_until": previous_secret_until(endpoint),
                                      "paused_until": paused_until(endpoint)})


@login_required
@require_POST
def endpoint_set_active(request: HtmxHttpRequest, endpoint_id: int, active: bool) -> HttpResponse:
    endpoint = _endpoint_managed(request, endpoint_id)
    try:
        webhook_endpoint_set_active(endpoint=endpoint, user=request.user, active=active)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{endpoint.url} is enabled: new events are sent to it, and those waiting."
                         if active else f"{endpoint.url} is disabled: nothing is sent to it until it is enabled.")
    return redirect("webhooks:detail", endpoint.pk)


@login_required
@require_POST
def endpoint_rotate_secret(request: HtmxHttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_managed(request, endpoint_id)
    try:
        secret = webhook_endpoint_rotate_secret(endpoint=endpoint, user=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("webhooks:detail", endpoint.pk)
    return _secret_keep(request, endpoint, secret, created=False)


@login_required
def endpoint_secret(request: HtmxHttpRequest, endpoint_id: int) -> HttpResponse:
    """The signing secret just made for this endpoint, shown this once; on a reload, or for another
    endpoint, only where to get a new one."""
    endpoint = _endpoint_managed(request, endpoint_id)
    kept = shown_once_take(request, "webhook-secret")
    if kept is not None and kept["endpoint"] != endpoint.pk:
        kept = None  # made for another endpoint: shown on its own page only, so it is gone
    return no_store(render(request, "webhooks/secret.html", {
        "endpoint": endpoint, "secret": kept and kept["secret"], "created": bool(kept and kept["created"]),
        "previous_secret_until": previous_secret_until(endpoint)}))


@login_required
def endpoint_delete(request: HtmxHttpRequest, endpoint_id: int) -> HttpResponse:
    """Asks before deleting (a page, so it works without JavaScript); the POST deletes."""
    endpoint = _endpoint_managed(request, endpoint_id)
    if request.method == "POST":
        try:
            webhook_endpoint_delete(endpoint=endpoint, user=request.user)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{endpoint.url} was deleted, with its deliveries.")
        return redirect("webhooks:list")
    return render(request, "webhooks/delete.html", {"endpoint": endpoint})


@login_required
@require_POST
def delivery_resend(request: HtmxHttpRequest, delivery_id: int) -> HttpResponse:
    membership = membership_required(request, manage=True)
    delivery = delivery_of(membership.organization, delivery_id)
    try:
        webhook_delivery_resend(delivery=delivery, user=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Event {delivery.event_id} will be sent again now, with the same event id.")
    return redirect("webhooks:detail", delivery.endpoint_id)
