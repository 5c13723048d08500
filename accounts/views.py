from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from registry.selectors import membership_required

from .selectors import accounts_with_balances


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request)
    accounts = accounts_with_balances(membership.organization)
    return render(request, "accounts/list.html", {"accounts": accounts})
