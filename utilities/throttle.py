"""How often one address may ask for a public page, or one API key call the API: counted in the
cache's Redis, per fixed window."""

import functools
import time

import redis
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError


def throttled(request: HttpRequest, *, scope: str, limit: int, window_seconds: int = 60) -> bool:
    """Whether the request's address has asked for `scope` more than `limit` times in this window.
    The address is the one sign-in lockouts count (TRUSTED_PROXY_COUNT says which proxies to skip).
    With the cache down nobody is throttled: the page it guards reads only public facts."""
    address = get_client_ip_address(request) or "unknown"
    return over_limit(f"{scope}:{address}", limit=limit, window_seconds=window_seconds)


def over_limit(name: str, *, limit: int, window_seconds: int) -> bool:
    """Whether `name` (a scope and who asks) has asked more than `limit` times in this window of
    `window_seconds` (a fixed window: one counter a window, which Redis increments atomically).
    With the cache down nothing is over its limit."""
    key = cache.make_and_validate_key(f"throttle:{name}:{int(time.time()) // window_seconds}")
    try:
        # One round trip (MULTI/EXEC): the count, and the window's expiry set by its first request.
        # The cache's own add-then-incr took three on every request after the first.
        count, _ = _redis().pipeline().incr(key).expire(key, window_seconds, nx=True).execute()
    except RedisError:
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
