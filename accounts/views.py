from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from registry.selectors import membership_required
from registry.services import ServiceError

from .forms import AccountOpenForm, AccountRenameForm
from .selectors import account_of, accounts_with_balances
from .services import account_close, account_open, account_rename


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    """The organization's accounts and balances; a manager opens one here (POST)."""
    membership = membership_required(request, manage=request.method == "POST")
    form = AccountOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account = account_open(user=request.user, organization=membership.organization,
                                   name=form.cleaned_data["name"], type=form.cleaned_data["type"])
        except ServiceError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"{account.get_type_display()} account {account.name} ({account.public_id}) "
                                      "is open.")
            return redirect("accounts:list")
    accounts = accounts_with_balances(membership.organization)
    return render(request, "accounts/list.html", {"accounts": accounts, "form": form,
                                                  "can_manage": membership.is_manager})


@login_required
def account_rename_page(request: HttpRequest, account_id: int) -> HttpResponse:
    membership = membership_required(request, manage=True)
    account = account_of(membership.organization, account_id)
    form = AccountRenameForm(request.POST if request.method == "POST" else None, initial={"name": account.name})
    if request.method == "POST" and form.is_valid():
        try:
            renamed = account_rename(user=request.user, organization=membership.organization, account=account,
                                     name=form.cleaned_data["name"])
        except ServiceError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Account {account.public_id} is renamed from {account.name} to {renamed.name}.")
            return redirect("accounts:list")
    return render(request, "accounts/rename.html", {"account": account, "form": form})


@login_required
def account_close_page(request: HttpRequest, account_id: int) -> HttpResponse:
    """Asks before closing (a page, so it works without JavaScript); the POST closes."""
    membership = membership_required(request, manage=True)
    account = account_of(membership.organization, account_id)
    if request.method == "POST":
        try:
            account_close(user=request.user, organization=membership.organization, account=account)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Account {account.name} ({account.public_id}) is closed.")
        return redirect("accounts:list")
    return render(request, "accounts/close.html", {"account": account})


