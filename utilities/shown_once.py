"""A secret shown once, after a redirect (post/redirect/get): the POST that made it keeps it in the
session, the GET that follows takes it out and shows it on a page no cache keeps. A reload of that
page finds nothing (and a reload of the POST's redirect never acts twice)."""

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

SESSION_KEY = "shown_once"


def shown_once_keep(request: HttpRequest, what: str, value: dict) -> None:
    """Keep `value` (a JSON-serializable dict) for the next page that asks for `what`."""
    request.session[f"{SESSION_KEY}:{what}"] = value


def shown_once_take(request: HttpRequest, what: str) -> dict | None:
    """What the last POST kept for `what`, gone from the session from now on; None if nothing is kept."""
    return request.session.pop(f"{SESSION_KEY}:{what}", None)


def no_store(response: HttpResponse) -> HttpResponse:
    """A page showing a secret: no cache (the browser's included) keeps it."""
    add_never_cache_headers(response)
    response["Cache-Control"] += ", no-store" if "no-store" not in response["Cache-Control"] else ""
    return response
