"""Rate limits: each API key a number of requests a window (settings.REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES["api_key"], API_RATE_PER_KEY in the environment), counted in Redis; the
public verification record as many times a minute from one address as its page
(VERIFY_REQUESTS_PER_MINUTE, the same counter). A throttled request is a 429 with Retry-After."""

from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from utilities.throttle import over_limit, throttled, window_left

from .models import ApiKey

VERIFY_WINDOW_SECONDS = 60


class ApiKeyThrottle(SimpleRateThrottle):
    """A fixed window a key (one atomic counter in Redis, not DRF's list of timestamps)."""

    scope = "api_key"

    def allow_request(self, request, view) -> bool:
        if not isinstance(request.auth, ApiKey) or self.num_requests is None:
            return True
        return not over_limit(f"api_key:{request.auth.pk}", limit=self.num_requests, window_seconds=self.duration)

    def wait(self) -> int:
        return window_left(self.duration)


class VerifyThrottle(BaseThrottle):
    """The public verification page's limit, for its JSON record in the API."""

    def allow_request(self, request, view) -> bool:
        return not throttled(request, scope="verify", limit=settings.VERIFY_REQUESTS_PER_MINUTE,
                             window_seconds=VERIFY_WINDOW_SECONDS)

    def wait(self) -> int:
        return window_left(VERIFY_WINDOW_SECONDS)
