"""The API keys page (managers): a page of the portal, not of the API."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from registry.models import Membership
from registry.selectors import membership_required
from registry.services import ServiceError

from .forms import ApiKeyForm
from .models import ApiKey
from .selectors import api_key_of, api_keys_of
from .services import api_key_create, api_key_revoke


@never_cache  # the answer to a create shows the key itself
@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    """The organization's keys; a manager creates one here (POST), and sees it this once."""
    membership = membership_required(request, manage=True)
    form = ApiKeyForm(request.POST if request.method == "POST" else None, role=membership.role)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            created = api_key_create(organization=membership.organization, user=request.user,
                                     name=form.cleaned_data["name"], scope=form.cleaned_data["scope"],
                                     expiry_date=form.expiry_date)
        except ServiceError as error:
            form.add_error("name", str(error))
        else:
            form = ApiKeyForm(role=membership.role)
    return render(request, "api/keys.html", {
        "keys": api_keys_of(membership.organization), "form": form, "created": created,
        "scopes": ApiKey.Scope.choices, "roles_that_transfer": Membership.roles_that_transfer_text(),
    })


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
