from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from .models import Membership
from .selectors import SESSION_KEY


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("certificates:dashboard")
    return redirect("login")


@login_required
@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    membership = get_object_or_404(
        Membership, user=request.user, organization_id=request.POST.get("organization")
    )
    request.session[SESSION_KEY] = membership.organization_id
    return redirect("certificates:dashboard")
