"""Rate limits: each API key a number of requests a window (settings.REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES["api_key"], API_RATE_PER_KEY in the environment), counted in Redis; the
public verification record as many times a minute from one address as its page
(VERIFY_REQUESTS_PER_MINUTE, the same counter). A throttled request is a 429 with Retry-After.

Every answer counted against a limit says where its client stands, with the IETF draft's headers
(draft-ietf-httpapi-ratelimit-headers): `RateLimit-Limit` (requests a window), `RateLimit-Remaining`
(left in this one) and `RateLimit-Reset` (seconds until it ends). The throttle leaves them on the
request (`rate_limit`); api.views adds them to the answer. With Redis unreachable nothing is
counted, and there are none."""

from typing import NamedTuple

from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from utilities.throttle import address_name, hits, window_left

from .models import ApiKey

VERIFY_WINDOW_SECONDS = 60


class RateLimit(NamedTuple):
    limit: int
    remaining: int
    reset: int  # seconds

    @classmethod
    def counted(cls, request, name: str, *, limit: int, window_seconds: int) -> bool:
        """Counts the request against `limit` a window; whether it is within it (so with Redis
        unreachable). Leaves the limit's standing on the request, for its headers."""
        count = hits(name, window_seconds=window_seconds)
        if count is None:
            return True
        request.rate_limit = cls(limit, max(limit - count, 0), window_left(window_seconds))
        return count <= limit

    def headers(self) -> dict[str, str]:
        return {"RateLimit-Limit": str(self.limit), "RateLimit-Remaining": str(self.remaining),
                "RateLimit-Reset": str(self.reset)}


class ApiKeyThrottle(SimpleRateThrottle):
    """A fixed window a key (one atomic counter in Redis, not DRF's list of timestamps)."""

    scope = "api_key"

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey) or self.num_requests is None:
            return True
        return RateLimit.counted(request, f"api_key:{request.auth.pk}", limit=self.num_requests,
                                 window_seconds=self.duration)

    def wait(self) -> int:
        return window_left(self.duration)


class PublicPageThrottle(BaseThrottle):
    """A public page's limit per address, for its JSON in the API: the page's own counter (`scope`)
    and its setting (`limit_setting`), so that the page and its API count together."""

    scope = ""
    limit_setting = ""

    def allow_request(self, request, view) -> bool:
        return RateLimit.counted(request, address_name(request, self.scope),
                                 limit=getattr(settings, self.limit_setting), window_seconds=VERIFY_WINDOW_SECONDS)

    def wait(self) -> int:
        return window_left(VERIFY_WINDOW_SECONDS)


class VerifyThrottle(PublicPageThrottle):
    """The public verification page's limit, for its JSON record in the API."""

    scope, limit_setting = "verify", "VERIFY_REQUESTS_PER_MINUTE"


class StatisticsThrottle(PublicPageThrottle):
    """The public statistics pages' limit (public_stats.views), for their JSON in the API."""

    scope, limit_setting = "statistics", "STATISTICS_REQUESTS_PER_MINUTE"


class PublicLogThrottle(PublicPageThrottle):
    """The public log's limit (publiclog.views), for its proofs and leaves in the API."""

    scope, limit_setting = "publiclog", "PUBLICLOG_REQUESTS_PER_MINUTE"
