from django.db import models
from django.utils import timezone

from registry.models import Organization, public_id


class AccountQuerySet(models.QuerySet):
    def of(self, organization: Organization) -> "AccountQuerySet":
        return self.filter(organization=organization)

    def open_active(self) -> "AccountQuerySet":
        return self.filter(type=Account.Type.ACTIVE, status=Account.Status.OPEN)


class Account(models.Model):
    """A holding account of one organization. Only open active accounts send or receive."""

    class Type(models.TextChoices):
        ACTIVE = "active", "Active"
        RETIREMENT = "retirement", "Retirement"
        RESERVE = "reserve", "Reserve"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        FROZEN = "frozen", "Frozen"

    public_id = public_id("ACT-", 5)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="accounts")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=Type, default=Type.ACTIVE)
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "name"]
        indexes = [models.Index(fields=["organization", "type", "status"])]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="account_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.public_id})" if self.public_id else self.name

    @property
    def is_open_active(self) -> bool:
        return self.type == self.Type.ACTIVE and self.status == self.Status.OPEN
