"""How often one address may ask for a public page, or one API key call the API: counted in the
cache, per fixed window."""

import time

from axes.helpers import get_client_ip_address
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
    key = f"throttle:{name}:{int(time.time()) // window_seconds}"
    try:
        if cache.add(key, 1, timeout=window_seconds):
            return limit < 1
        return cache.incr(key) > limit
    except (RedisError, ValueError):  # ValueError: the key expired between add and incr
        return False


def window_left(window_seconds: int) -> int:
    """Whole seconds until the current window of `window_seconds` ends (a Retry-After)."""
    return window_seconds - int(time.time()) % window_seconds
