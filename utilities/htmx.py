"""What an htmx request wants, decided in one place (as NetBox's utilities/htmx.py)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect, HttpResponseLocation
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request as django-htmx's middleware leaves it (for type hints, as django-htmx documents)."""

    htmx: HtmxDetails


def htmx_partial(request: HtmxHttpRequest) -> bool:
    """Whether to answer with a region of the page rather than the whole page: an htmx request
    for a part of the page. A boosted link swaps a whole page in, and a history restore (the Back
    button, once htmx's history cache is empty) reloads one: both get the whole page."""
    return bool(request.htmx) and not request.htmx.boosted and not request.htmx.history_restore_request


def htmx_redirect(request: HtmxHttpRequest, url: str, *, target: str | None = None) -> HttpResponse:
    """Where to go after a successful POST (or from a page that moved): a redirect. To an htmx
    request for a region, HX-Location with `target` (htmx GETs `url`, puts the answer in place of
    that element and `url` in the address bar), or without one HX-Redirect (htmx loads the whole
    page there)."""
    if not htmx_partial(request):
        return redirect(url)
    if target is None:
        return HttpResponseClientRedirect(url)
    return HttpResponseLocation(url, target=target, swap="outerHTML")


def whole_page_for_htmx(handler):
    """Django's error handler `handler` (400 and 413, 403, 404), whose page an htmx request for part of a page
    puts in place of the whole page (base.html's htmx-config swaps these codes): a refusal met in
    the middle of the wizard is shown, not swallowed."""
    def view(request, exception):
        response = handler(request, exception)
        if getattr(request, "htmx", False):
            response["HX-Retarget"], response["HX-Reswap"] = "body", "innerHTML"
        return response
    return view
