"""The portal's page for a request Django refuses before any view reads it (handler400)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from utilities.display import bytes_text


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's refusals of a request it cannot read (SuspiciousOperation: a form over
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, a bad host): a 413 that says what the limit is for
    a form too large, else a 400. The exception's own message is not shown (Django's rule)."""
    too_large = isinstance(exception, RequestDataTooBig)
    return render(request, "400.html", {"too_large": too_large,
                                        "limit": bytes_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)},
                  status=413 if too_large else 400)
