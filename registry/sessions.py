"""A signed-in session ends after SESSION_IDLE_MINUTES without a request, and SESSION_LIFETIME_HOURS
after signing in however active; the sign-in page then says which. htmx requests that meet the
sign-in page send the whole browser there rather than swap the page into a fragment."""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY as SIGNED_IN_USER
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from .selectors import SESSION_KEY as ORGANIZATION_KEY

SIGNED_IN_AT, ACTIVE_AT = "signed_in_at", "active_at"  # seconds since the epoch
# The last-activity stamp is rewritten at most this often, so a busy user's requests do not each
# write their session: the idle limit is then kept to within this many seconds.
ACTIVITY_STAMP_SECONDS = 60


# The one read every request makes. Through the ORM (SessionStore.load's objects.get) it cost about
# 550 Python calls a request, a tenth of a page's: bench/wizard_load.py (bench/README.md, "Two reads on
# every path written once in SQL") measured a wizard walk at 71,234 calls through the ORM and 65,334
# with this statement without JavaScript (48,698 and 45,417 with it); bench/sql_statements.py, one
# read: 190 us of CPU and 235 Python calls, against 572 us and 913 through Django's store (load 9).
SESSION_SQL = f"""SELECT session_data FROM {Session._meta.db_table}
                  WHERE session_key = %s AND expire_date > %s"""


class SessionStore(db.SessionStore):
    """Django's sessions in the database (SESSION_ENGINE = "registry.sessions"), read in one statement."""

    def load(self) -> dict:
        if self.session_key:
            with connection.cursor() as cursor:
                cursor.execute(SESSION_SQL, [self.session_key, timezone.now()])
                row = cursor.fetchone()
            if row is not None:
                return self.decode(row[0])
        # None, expired, or deleted (signed out elsewhere): Django's own load() finds none too and
        # starts a new session (a new key when saved). Rare, so its second read costs little.
        return super().load()


@receiver(user_logged_in)
def session_clocks_start(sender, request, user, **kwargs) -> None:
    """Every sign-in (the portal's, the admin's) starts both clocks."""
    request.session[SIGNED_IN_AT] = request.session[ACTIVE_AT] = int(time.time())


def _minutes_in_words(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def session_end_reason(session, now: float) -> str | None:
    """Why a signed-in session has ended, in the words the sign-in page shows; None while it holds.
    A session without its clocks (none is signed in without them) counts as ended."""
    if now - session.get(ACTIVE_AT, 0) >= settings.SESSION_IDLE_MINUTES * 60:
        return f"You were signed out after {_minutes_in_words(settings.SESSION_IDLE_MINUTES)} without activity."
    if now - session.get(SIGNED_IN_AT, 0) >= settings.SESSION_LIFETIME_HOURS * 3600:
        return (f"You were signed out after {_minutes_in_words(settings.SESSION_LIFETIME_HOURS * 60)}; "
                "please sign in again.")
    return None


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    """The sign-in page, back to this page after; for htmx, the whole browser goes there."""
    if request.htmx:
        return HttpResponseClientRedirect(redirect_to_login(request.htmx.current_url_abs_path or "/").url)
    return redirect_to_login(request.get_full_path())


class SessionTimeoutMiddleware:
    """Ends idle and old sessions (after the session, auth, messages and htmx middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if SIGNED_IN_USER in session:
            now = time.time()
            reason = session_end_reason(session, now)
            if reason:
                logout(request)
                messages.info(request, reason)
                return _to_sign_in(request)
            if now - session[ACTIVE_AT] >= ACTIVITY_STAMP_SECONDS:
                session[ACTIVE_AT] = int(now)
        response = self.get_response(request)
        if (request.htmx and response.status_code == 302
                and urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL)):
            return _to_sign_in(request)
        return response


def sessions_end(*, user_id: int, organization_id: int) -> int:
    """End the user's signed-in sessions that work in this organization (a member removed from it):
    those that chose it, and those that chose none (they may be in it by default). A session in
    another organization the user still belongs to goes on. Removing a member is rare and sessions
    live at most SESSION_LIFETIME_HOURS, so reading the live ones is cheap enough; returns how many ended."""
    store = SessionStore()
    ended = []
    for key, data in (Session.objects.filter(expire_date__gt=timezone.now())
                      .values_list("session_key", "session_data").iterator()):
        session = store.decode(data)
        if (session.get(SIGNED_IN_USER) == str(user_id)
                and session.get(ORGANIZATION_KEY, organization_id) == organization_id):
            ended.append(key)
    return Session.objects.filter(session_key__in=ended).delete()[0]
