"""How often one address may ask for a public page, or one API key call the API: counted in the
cache's Redis, per fixed window."""

import functools
import time

import redis
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse


def throttled(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 60) -> bool:
    """Whether the request's address has asked for `scope` more than `limit` times in this window.
    With the cache down nobody is throttled: the page it guards reads only public facts."""
    return over_limit(address_name(request, scope), limit=limit, window_seconds=window_seconds)


def public_page_refused(request: HttpRequest, *, scope: str, limit: int) -> HttpResponse | None:
    """The answer to an address that asked for a public page of `scope` more than `limit` times this
    minute (a 429 saying when to try again), or None: the public pages' one rate limit (the
    retirement verification page, the statistics), checked before the database is read."""
    if not throttled(request, scope=scope, limit=limit):
        return None
    return HttpResponse("Too many requests from your address; try again in a minute.", status=429,
                        content_type="text/plain; charset=utf-8", headers={"Retry-After": "60"})


def address_name(request: HttpRequest, scope: str) -> str:
    """What `scope`'s counter is kept under for the request's address: the address sign-in lockouts
    count (TRUSTED_PROXY_COUNT says which proxies to skip)."""
    return f"{scope}:{get_client_ip_address(request) or 'unknown'}"


def over_limit(name: str, *, limit: int, window_seconds: int) -> bool:
    """Whether `name` (a scope and who asks) has asked more than `limit` times in this window of
    `window_seconds` (a fixed window: one counter a window, which Redis increments atomically).
    With the cache unreachable nothing is over its limit (hits)."""
    count = hits(name, window_seconds=window_seconds)
    return count is not None and count > limit


def hits(name: str, *, window_seconds: int) -> int | None:
    """Counts one more request of `name` in this window of `window_seconds`: how many it has made
    in the window, this one included (a rate limit's headers say what is left). None with the
    cache unreachable (no connection, no answer in time); an error Redis answers with is raised,
    never taken for an outage that switches every limit off."""
    key = window_key(name, window_seconds)
    try:
        # One round trip (MULTI/EXEC): the window's first request makes the counter with its expiry
        # (SET NX EX), and INCR counts, keeping that expiry. Redis 6.2 (the embedded one of `make
        # run`) knows both; EXPIRE's NX option needs Redis 7. The cache's own add-then-incr took three.
        _, count = _redis().pipeline().set(key, 0, ex=window_seconds, nx=True).incr(key).execute()
    except (redis.ConnectionError, redis.TimeoutError):  # not redis.RedisError: a ResponseError is a bug
        return None
    return count


def _redis() -> redis.Redis:
    """A client of the cache's Redis (settings.CACHES["default"]), with its timeouts."""
    default = settings.CACHES["default"]
    return _client(default["LOCATION"], tuple(sorted(default.get("OPTIONS", {}).items())))


@functools.cache
def _client(location: str, options: tuple) -> redis.Redis:
    return redis.Redis.from_url(location, **dict(options))


def clock() -> float:
    """The time the windows are counted by, in seconds since the epoch: read here only, so a test
    holds it still instead of waiting for a window's end."""
    return time.time()


def window_key(name: str, window_seconds: int) -> str:
    """The cache key of `name`'s counter in the current window of `window_seconds`."""
    return cache.make_and_validate_key(f"throttle:{name}:{int(clock()) // window_seconds}")


def window_left(window_seconds: int) -> int:
    """Whole seconds until the current window of `window_seconds` ends (a Retry-After)."""
    return window_seconds - int(clock()) % window_seconds
