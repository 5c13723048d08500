"""How often one address may ask for a public page, or one API key call the API: counted in the
cache's Redis, per fixed window."""

import functools
import time

import redis
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest


def throttled(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 60) -> bool:
    """Whether the request's address has asked for `scope` more than `limit` times in this window.
    The address is the one sign-in lockouts count (TRUSTED_PROXY_COUNT says which proxies to skip).
    With the cache down nobody is throttled: the page it guards reads only public facts."""
    address = get_client_ip_address(request) or "unknown"
    return over_limit(f"{scope}:{address}", limit=limit, window_seconds=window_seconds)


def over_limit(name: str, *, limit: int, window_seconds: int) -> bool:
    """Whether `name` (a scope and who asks) has asked more than `limit` times in this window of
    `window_seconds` (a fixed window: one counter a window, which Redis increments atomically).
    With the cache unreachable (no connection, no answer in time) nothing is over its limit; an error
    Redis answers with is raised, never taken for an outage that switches every limit off."""
    key = cache.make_and_validate_key(f"throttle:{name}:{int(time.time()) // window_seconds}")
    try:
        # One round trip (MULTI/EXEC): the window's first request makes the counter with its expiry
        # (SET NX EX), and INCR counts, keeping that expiry. Redis 6.2 (the embedded one of `make
        # run`) knows both; EXPIRE's NX option needs Redis 7. The cache's own add-then-incr took three.
        _, count = _redis().pipeline().set(key, 0, ex=window_seconds, nx=True).incr(key).execute()
    except (redis.ConnectionError, redis.TimeoutError):  # not redis.RedisError: a ResponseError is a bug
        return False
    return count > limit


def _redis() -> redis.Redis:
    """A client of the cache's Redis (settings.CACHES["default"]), with its timeouts."""
    default = settings.CACHES["default"]
    return _client(default["LOCATION"], tuple(sorted(default.get("OPTIONS", {}).items())))


@functools.cache
def _client(location: str, options: tuple) -> redis.Redis:
    return redis.Redis.from_url(location, **dict(options))


def window_left(window_seconds: int) -> int:
    """Whole seconds until the current window of `window_seconds` ends (a Retry-After)."""
    return window_seconds - int(time.time()) % window_seconds
