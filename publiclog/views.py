"""The public log's pages, no sign-in, limited per address as the verification page is
(utilities.throttle): the auditors' page (how to check a proof by hand, with the origin and the
public key) and the latest checkpoint as C2SP clients read it (the signed note, text/plain). The
proofs and leaves are in the API (/api/v1/public/log/...)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control

from utilities.throttle import public_page_refused

from .selectors import checkpoint_latest, log_description

SCOPE = "publiclog"


def refused(request: HttpRequest) -> HttpResponse | None:
    return public_page_refused(request, scope=SCOPE, limit=settings.PUBLICLOG_REQUESTS_PER_MINUTE)


def auditors(request: HttpRequest) -> HttpResponse:
    """Public: what the log is, its origin and verifier key, and how to check a proof by hand."""
    if refusal := refused(request):
        return refusal
    checkpoint = checkpoint_latest()
    return render(request, "publiclog/auditors.html", {
        "log": log_description(), "checkpoint": checkpoint, "api": "/api/v1/public/log/",
        "checkpoint_url": reverse("publiclog:checkpoint"), "log_seconds": settings.PUBLICLOG_CHECKPOINT_SECONDS})


def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint, as a C2SP signed note (404 before the first one)."""
    if refusal := refused(request):
        return refusal
    latest = checkpoint_latest()
    if latest is None:
        return HttpResponse("The log has no checkpoint yet.\n", status=404, content_type="text/plain; charset=utf-8")
    response = HttpResponse(latest.note, content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=settings.PUBLICLOG_CHECKPOINT_SECONDS)
    return response
