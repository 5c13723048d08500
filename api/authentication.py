"""`Authorization: Api-Key <key>`: the only way into the API (no session, so no CSRF to guard)."""

import datetime

from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_api_key.permissions import KeyParser

from .models import ApiKey
from .selectors import api_key_by_prefix

# last_used_at is written at most once a minute a key: a busy key is not a write on every request.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Sets request.user to the key's creator and request.auth to the ApiKey.

    A key works while it is not revoked, not expired, its creator is active, and the creator's role
    in the key's organization today still allows its scope (ApiKey.scope_allowed): a creator who
    lost the role or left the organization takes the key's power with them.
    """

    keyword = KeyParser.keyword

    def authenticate(self, request):
        raw_key = KeyParser().get_from_authorization(request)
        if raw_key is None:
            return None  # no key: NotAuthenticated (401) from the permission, unless the view is public
        prefix, _, _ = raw_key.partition(".")
        api_key = api_key_by_prefix(prefix) if prefix else None
        if api_key is None or not api_key.is_valid(raw_key):
            raise exceptions.AuthenticationFailed("This API key is not valid.")
        if api_key.revoked:
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        if api_key.has_expired:
            raise exceptions.AuthenticationFailed("This API key has expired.")
        if not api_key.created_by.is_active or not ApiKey.scope_allowed(role=api_key.creator_role,
                                                                        scope=api_key.scope):
            raise exceptions.AuthenticationFailed(
                "This API key no longer works: the member who created it has left the organization or no longer "
                "has a role that allows its scope. A manager can create a new key.")
        _touch(api_key)
        return api_key.created_by, api_key

    def authenticate_header(self, request):
        return self.keyword  # a 401, with WWW-Authenticate: Api-Key, rather than a 403


def _touch(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_PRECISION:
        return
    (ApiKey.objects.filter(pk=api_key.pk)
     .filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION))
     .update(last_used_at=now))
    api_key.last_used_at = now


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """The schema's security scheme: the key in the Authorization header."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>`: a key an organization's manager creates on Organization → API keys."}
