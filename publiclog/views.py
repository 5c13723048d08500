"""The public log's pages, no sign-in, limited per address as the verification page is
(utilities.throttle): the auditors' page (how to check a proof by hand, with the origin and the
public key), the latest checkpoint as C2SP clients read it (the signed note with its cosignatures,
text/plain), and, as a witness of other logs, C2SP tlog-witness's add-checkpoint. The proofs and
leaves are in the API (/api/v1/public/log/...)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from utilities.throttle import public_page_refused

from .selectors import checkpoint_latest, checkpoint_note, log_description, witnessing
from .services import WitnessRefused, checkpoint_witness

SCOPE = "publiclog"


def refused(request: HttpRequest) -> HttpResponse | None:
    return public_page_refused(request, scope=SCOPE, limit=settings.PUBLICLOG_REQUESTS_PER_MINUTE)


def auditors(request: HttpRequest) -> HttpResponse:
    """Public: what the log is, its origin and verifier key, and how to check a proof by hand."""
    if refusal := refused(request):
        return refusal
    checkpoint = checkpoint_latest()
    return render(request, "publiclog/auditors.html", {
        "log": log_description(), "checkpoint": checkpoint, "api": "/api/v1/public/log/", "witnessing": witnessing(),
        "site_url": settings.SITE_URL,
        "checkpoint_url": reverse("publiclog:checkpoint"), "log_seconds": settings.PUBLICLOG_CHECKPOINT_SECONDS})


def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest signed checkpoint, as a C2SP signed note (404 before the first one)."""
    if refusal := refused(request):
        return refusal
    latest = checkpoint_latest()
    if latest is None:
        return HttpResponse("The log has no checkpoint yet.\n", status=404, content_type="text/plain; charset=utf-8")
    response = HttpResponse(checkpoint_note(latest), content_type="text/plain; charset=utf-8")
    patch_cache_control(response, public=True, max_age=settings.PUBLICLOG_CHECKPOINT_SECONDS)
    return response


@csrf_exempt  # a log's machine posts here, with no session: no cookie to forge a request with
@require_POST
def witness_add_checkpoint(request: HttpRequest) -> HttpResponse:
    """Public (C2SP tlog-witness): a log this registry witnesses posts its new checkpoint with a
    consistency proof; the answer is this witness's cosignature line, or the status saying why not."""
    if refusal := refused(request):
        return refusal
    try:
        line = checkpoint_witness(body=request.body.decode("utf-8"))
    except UnicodeDecodeError:
        return HttpResponse("The request must be UTF-8 text.\n", status=400, content_type="text/plain; charset=utf-8")
    except WitnessRefused as refusal:
        content_type = "text/x.tlog.size" if refusal.status == 409 else "text/plain; charset=utf-8"
        text = str(refusal) if str(refusal).endswith("\n") else f"{refusal}\n"
        return HttpResponse(text, status=refusal.status, content_type=content_type)
    return HttpResponse(line, content_type="text/plain; charset=utf-8")
