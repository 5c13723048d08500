import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from registry.models import Organization

from .sealing import SealedTextField
from .signing import secret_is_standard


class EventType(models.TextChoices):
    """What a webhook endpoint can be told of (the `type` of each delivery's body)."""

    TRANSFER_PENDING = "transfer.pending", "Transfer pending (sent to or by you, awaiting a decision)"
    TRANSFER_ACCEPTED = "transfer.accepted", "Transfer accepted"
    TRANSFER_REJECTED = "transfer.rejected", "Transfer rejected"
    TRANSFER_WITHDRAWN = "transfer.withdrawn", "Transfer withdrawn"
    TRANSFER_EXPIRED = "transfer.expired", "Transfer expired"
    RETIREMENT_CREATED = "retirement.created", "Certificates retired"
    UPLOAD_FINISHED = "upload.finished", "Mass upload finished (completed or failed)"
    EXPORT_DECIDED = "export.decided", "Export accepted or rejected by the receiving system"
    ISSUANCE_ROLLED_BACK = "issuance.rolled_back", "Issuance rolled back by the registry (its certificates voided)"
    CERTIFICATES_VOIDED = "certificates.voided", "Certificates voided by the registry"
    ISSUANCE_ADJUSTED = "issuance.adjusted", "Issued months corrected by the registry (prior period adjustments)"
    INVOICE_ISSUED = "invoice.issued", "Invoice issued"
    INVOICE_PAID = "invoice.paid", "Invoice paid (nothing left to pay)"
    INVOICE_OVERDUE = "invoice.overdue", "Invoice overdue (unpaid after its due date)"
    IMPORT_RECORDED = "import.recorded", "Certificates imported from another tracking system, awaiting your decision"
    IMPORT_ACCEPTED = "import.accepted", "Import accepted"
    IMPORT_REJECTED = "import.rejected", "Import rejected (its certificates voided)"


class WebhookEndpoint(models.Model):
    """A URL of an organization's own system that is told, by a signed POST, of the events it wants.

    The signing secret is stored encrypted (webhooks.sealing): the registry must sign with it, so it
    cannot be hashed. It is shown once, at creation or rotation, and never again.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    url = models.URLField("URL", max_length=500)
    event_types = models.JSONField(default=list)  # EventType values
    secret = SealedTextField(editable=False)
    is_active = models.BooleanField("active", default=True)
    created_at = models.DateTimeField(default=timezone.now)
    secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # The secret the last rotation replaced: it signs too (a second signature) until then, so that the
    # receiver can switch without losing a delivery; dropped after.
    previous_secret = SealedTextField(null=True, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    # Why the registry disabled it, when a receiver said it wants no more (410 Gone); a manager's own
    # disabling gives no reason. Enabling it clears both.
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # After a 429, 502, 503 or 504 nothing is sent to it before then (Retry-After, or the backoff).
    paused_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "is_active"])]

    def __str__(self) -> str:
        return self.url

    @property
    def needs_new_secret(self) -> bool:
        """Its secret cannot be read (sealed under a SECRET_KEY no longer in SECRET_KEY_FALLBACKS): nothing
        can be signed for it until a manager replaces the secret."""
        return self.secret is None

    @property
    def secret_is_legacy(self) -> bool:
        """Made before the registry followed Standard Webhooks (URL-safe base64), which not every
        Standard Webhooks library reads: a manager should replace it."""
        return self.secret is not None and not secret_is_standard(self.secret)

    def secrets_signing(self, now: datetime.datetime) -> list[str]:
        """The secrets that sign a delivery at `now`: the current one, then the one it replaced while its
        grace period lasts."""
        previous = (self.previous_secret,) if self.previous_secret and self.previous_secret_until and \
            now < self.previous_secret_until else ()
        return [self.secret, *previous]

    def event_type_labels(self) -> list[str]:
        return [EventType(value).label for value in EventType.values if value in self.event_types]


class WebhookDelivery(models.Model):
    """One event owed to one endpoint, retried until its receiver answers 2xx or the retry window
    ends. Every attempt carries the same event id, by which a receiver drops a repeat."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"
        SET_ASIDE = "set_aside", "Set aside"  # until the endpoint has a secret that can sign it again

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=32, choices=EventType)
    event_id = models.UUIDField(default=uuid.uuid4, editable=False)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # an event is owed once to each endpoint; a resend is another attempt of the same row
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"),
        ]
        indexes = [
            # what the delivery task claims: pending and due
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} to endpoint {self.endpoint_id} ({self.status})"
