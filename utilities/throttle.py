"""How often one address may ask for a public page: counted in the cache, per fixed window."""

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
    key = f"throttle:{scope}:{address}:{int(time.time()) // window_seconds}"
    try:
        if cache.add(key, 1, timeout=window_seconds):
            return limit < 1
        return cache.incr(key) > limit
    except (RedisError, ValueError):  # ValueError: the key expired between add and incr
        return False
