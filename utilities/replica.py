"""Reads that may lag, from a streaming replica (the `replica` database alias, set when
REPLICA_DATABASE_URL is), and every other read and every write on the primary.

Nothing reads from the replica unless it asks: a view that lists what may be a second old (the
dashboard's tabs and CSV, the API's lists and CSV, the public statistics) is decorated with
`@reads_may_lag`, and only inside it does `ReplicaRouter.db_for_read` answer `replica`, and then
only for the models of REPLICA_APPS (batches, certificates, transfers, ...): who is signed in, their
membership and role, an API key and the session are read from the primary, so that access is
never decided on a copy that lags. Within a view that may lag, the primary serves the reads

- inside a transaction on the primary (a service's reads see its own writes and locks), and
- once the view has written anything to the primary (it sees its own writes);

and a browser that wrote in a request (a transfer posted, say) is pinned to the primary for its
next REPLICA_PIN_SECONDS (a cookie set by ReplicaPinMiddleware), so the page it is sent to next
shows what it just did however far the replica lags. The same views with no replica configured
read the primary as always (no router, no middleware installed: portal/settings.py).

A streamed response (a CSV of a million rows) keeps reading from where its view read, while it
streams. The queryset's database is chosen when it first runs, so the router is asked then: a
streamed body is iterated with the view's routing in force.

The choice is per request, in a context variable (each thread and each asyncio task its own), not
per queryset (`.using()` nowhere): the views say what may lag, the selectors stay the same for
every caller."""

import contextvars
import functools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

REPLICA = "replica"
# The apps whose rows a list may show a second late: the ledger's tables and what lists show with
# them. Not registry (users, organizations, memberships, sessions), api (keys), auth, axes: access
# is decided on the primary only.
REPLICA_APPS = frozenset({"accounts", "certificates", "transfers", "programs", "retirements", "issuance",
                          "instructions", "mass_uploads", "ledger", "public_stats", "publiclog", "billing"})
PIN_COOKIE = "primary_until"
# The first word of a statement that changes nothing (anything else sent to the primary counts as a
# write: INSERT, UPDATE, DELETE, COPY, a WITH that may hold any of them, SELECT ... FOR UPDATE).
READ_WORDS = ("SELECT", "SHOW", "SET")
LOCKING = ("FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE")


@dataclass
class _Request:
    may_lag: bool = False  # inside a view decorated with reads_may_lag
    wrote: bool = False  # the request has written to the primary
    pinned: bool = False  # the browser wrote within REPLICA_PIN_SECONDS (ReplicaPinMiddleware)


_current: contextvars.ContextVar[_Request | None] = contextvars.ContextVar("replica_request", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _is_write(sql: str) -> bool:
    text = sql.lstrip().upper()
    return not text.startswith(READ_WORDS) or any(words in text for words in LOCKING)


def _primary_watch(state: _Request):
    """An execute wrapper of the primary's connection: marks the request as having written."""
    def watch(execute, sql, params, many, context):
        if not state.wrote and (many or _is_write(sql)):
            state.wrote = True
        return execute(sql, params, many, context)
    return watch


class ReplicaRouter:
    """`replica` for a read of REPLICA_APPS inside reads_may_lag, none written yet, no transaction open,
    the browser not pinned; the primary for everything else."""

    def db_for_read(self, model, **hints) -> str | None:
        state = _current.get()
        if (state is None or not state.may_lag or state.wrote or state.pinned
                or model._meta.app_label not in REPLICA_APPS or connections[DEFAULT_DB_ALIAS].in_atomic_block):
            return None  # the primary
        return REPLICA

    def db_for_write(self, model, **hints) -> str | None:
        state = _current.get()
        if state is not None:
            state.wrote = True  # before the write, so even its own read-back comes from the primary
        return None

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        return True  # one database, two copies of it

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool | None:
        return db == DEFAULT_DB_ALIAS  # the replica follows the primary's schema by replication


def _lagging_iterator(state: _Request, chunks: Iterable) -> Iterator:
    """A streamed body's chunks, each made with the view's routing (`state`) in force."""
    chunks = iter(chunks)
    while True:
        token = _current.set(state)
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(_primary_watch(state)):
                chunk = next(chunks)
        except StopIteration:
            return
        finally:
            _current.reset(token)
        yield chunk


def reads_may_lag(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A view (or a class-based view's method) whose lists may come from the replica: see the module's
    docstring for what stays on the primary. Does nothing when no replica is configured."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not replica_configured():
            return view(*args, **kwargs)
        outer = _current.get()
        # Its own writes count, not those before it: what the middleware and authentication write (a
        # session, an API key's last use) is never read from the replica.
        state = _Request(may_lag=True, pinned=bool(outer and outer.pinned))
        token = _current.set(state)
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(_primary_watch(state)):
                response = view(*args, **kwargs)
        finally:
            _current.reset(token)
            if outer is not None:
                outer.wrote = outer.wrote or state.wrote
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _lagging_iterator(state, response.streaming_content)
        return response

    return wrapped


class ReplicaPinMiddleware:
    """Pins a browser that wrote to the primary for REPLICA_PIN_SECONDS (a cookie), so its next pages
    show what it did however the replica lags. Last of MIDDLEWARE: what the view writes counts, not
    the session's save around it (the session is on the primary in any case)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = time.time()
        try:
            pinned = float(request.COOKIES.get(PIN_COOKIE, "0")) > now
        except ValueError:
            pinned = False
        state = _Request(pinned=pinned)
        token = _current.set(state)
        try:
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(_primary_watch(state)):
                response = self.get_response(request)
        finally:
            _current.reset(token)
        if state.wrote and settings.SESSION_COOKIE_NAME in request.COOKIES:  # a browser (an API client has none)
            seconds = settings.REPLICA_PIN_SECONDS
            response.set_cookie(PIN_COOKIE, f"{now + seconds:.0f}", max_age=seconds, httponly=True,
                                samesite="Lax", secure=request.is_secure())
        return response
