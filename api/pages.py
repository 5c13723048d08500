"""The API keys page (managers): a page of the portal, not of the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from registry.models import Membership
from registry.selectors import membership_required
from registry.services import ServiceError
from utilities.htmx import HtmxHttpRequest, htmx_redirect
from utilities.shown_once import no_store, shown_once_keep, shown_once_take

from .forms import ApiKeyForm
from .models import ApiKey
from .selectors import api_key_of, api_keys_of
from .services import api_key_create, api_key_revoke


@login_required
def api_keys(request: HtmxHttpRequest) -> HttpResponse:
    """The organization's keys; a manager creates one here (POST, then a redirect), and the page that
    follows shows the new key this once (a reload shows only the list)."""
    membership = membership_required(request, manage=True)
    form = ApiKeyForm(request.POST if request.method == "POST" else None, role=membership.role)
    if request.method == "POST" and form.is_valid():
        try:
            api_key, key = api_key_create(organization=membership.organization, user=request.user,
                                          name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
                                          expiry_date=form.expiry_date)
        except ServiceError as error:
            form.add_error("name", str(error))
        else:
            shown_once_keep(request, "api-key", {"name": api_key.name, "prefix": api_key.prefix, "key": key})
            return htmx_redirect(request, reverse("api-keys:list"))
    return no_store(render(request, "api/keys.html", {
        "keys": api_keys_of(membership.organization), "form": form, "created": shown_once_take(request, "api-key"),
        "scopes": ApiKey.Scope.choices, "roles_that_transfer": Membership.roles_that_transfer_text(),
    }, status=400 if form.errors else 200))


@login_required
def api_key_revoke_confirm(request: HttpRequest, prefix: str) -> HttpResponse:
    """Asks before revoking (a page, so it works without JavaScript); the POST revokes."""
    membership = membership_required(request, manage=True)
    api_key = api_key_of(membership.organization, prefix)
    if request.method == "POST":
        try:
            api_key_revoke(organization=membership.organization, user=request.user, api_key=api_key)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"The key {api_key.name} ({api_key.prefix}) is revoked: requests made with it "
                                      "are refused from now on.")
        return redirect("api-keys:list")
    return render(request, "api/key_revoke.html", {"api_key": api_key})
