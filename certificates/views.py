from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from registry.selectors import membership_required


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_required(request)
    return render(request, "certificates/dashboard.html", {"membership": membership})
