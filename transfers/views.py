from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from registry.selectors import membership_required

from .selectors import transfer_for_organization


@login_required
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_required(request)
    transfer = transfer_for_organization(pk=pk, organization=membership.organization)
    return render(request, "transfers/detail.html", {"transfer": transfer})


@login_required
def mass_transfers(request: HttpRequest) -> HttpResponse:
    membership_required(request)
    return render(request, "transfers/mass.html", {})
