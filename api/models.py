"""API keys and the stored answers that make a POST safe to retry."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from registry.models import Membership, Organization


class ApiKey(AbstractAPIKey):
    """A key an organization's manager made for the organization's own systems.

    Stored hashed by djangorestframework-api-key (the key is `<prefix>.<secret>`, kept as a SHA-512
    of it; the prefix finds the row). A request made with it acts as its creator, within its scope
    and never beyond the creator's role today (`ApiKey.scope_allowed`).
    """

    class Scope(models.TextChoices):
        # Each scope includes the ones before it: a trade key reads, a retire key also trades.
        READ = "read", "Read: the organization, accounts, batches, transfers"
        TRADE = "trade", "Trade: also transfers (create, accept, reject, withdraw) and mass uploads"
        RETIRE = "retire", "Retire: also retirements"

    ORDER = [Scope.READ.value, Scope.TRADE.value, Scope.RETIRE.value]

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="api_keys")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=16, choices=Scope, default=Scope.READ)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = APIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        indexes = [models.Index(fields=["organization", "-created"])]

    @staticmethod
    def scope_allowed(*, role: str | None, scope: str) -> bool:
        """The one rule of what a key may do: a viewer's keys only read; trading and retiring need a
        role that moves certificates (Membership.ROLES_THAT_TRANSFER). `role` is the creator's role
        in the key's organization now, None once they left it. Checked when a key is made and on
        every request made with it, so a key stops working when its creator loses the role."""
        if role is None:
            return False
        if scope == ApiKey.Scope.READ:
            return True
        return role in Membership.ROLES_THAT_TRANSFER

    @classmethod
    def scopes_for_role(cls, role: str | None) -> list[tuple[str, str]]:
        """The scopes a member with `role` may give a key, as choices."""
        return [(value, label) for value, label in cls.Scope.choices if cls.scope_allowed(role=role, scope=value)]

    def grants(self, scope: str) -> bool:
        """Whether this key's scope covers `scope` (each scope includes those before it)."""
        return self.ORDER.index(self.scope) >= self.ORDER.index(scope)

    @property
    def status_text(self) -> str:
        if self.revoked:
            return "Revoked"
        if self.has_expired:
            return "Expired"
        return "Active"


IDEMPOTENCY_WINDOW = datetime.timedelta(hours=24)


class IdempotentRequest(models.Model):
    """The first POST made with an Idempotency-Key, and its answer once there is one.

    The unique constraint is what makes a request act once: the row is inserted before the request
    acts (api/idempotency.py), and a second request with the key finds it. The key belongs to the
    organization, so a client retrying with another of its keys still acts once. A row older than
    IDEMPOTENCY_WINDOW is replaced by the next request with its key.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=2000)
    body_sha256 = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)  # None while the request acts
    response_body = models.JSONField(null=True, blank=True)
    response_content_type = models.CharField(max_length=100, blank=True)
    response_location = models.TextField(blank=True, default="")  # a 201's Location, replayed with it
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="idempotent_request_unique")]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
