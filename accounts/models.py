from django.db import models
from django.db.models import Case, When
from django.utils import timezone

from registry.models import Organization, public_id


class AccountQuerySet(models.QuerySet):
    def of(self, organization: Organization) -> "AccountQuerySet":
        return self.filter(organization=organization)

    def open_active(self) -> "AccountQuerySet":
        return self.filter(**Account.OPEN_ACTIVE)

    def open_retirement(self) -> "AccountQuerySet":
        """The accounts a retirement can go into."""
        return self.filter(**Account.OPEN_RETIREMENT)

    def open_first(self) -> "AccountQuerySet":
        """Open accounts first, frozen ones next, closed ones last; each by type, then name: the order
        a list of accounts is shown in (the Accounts page, the dashboard's Account filter, the API)."""
        rank = [Account.Status.OPEN, Account.Status.FROZEN, Account.Status.CLOSED]
        return self.order_by(Case(*(When(status=status, then=n) for n, status in enumerate(rank)), default=len(rank)),
                             "type", "name", "pk")


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

    # Only open active accounts send or receive transfers: the one definition of the rule, which the
    # queryset (open_active) and the checks on locked account rows (is_open_active_state) both read.
    OPEN_ACTIVE = {"type": Type.ACTIVE.value, "status": Status.OPEN.value}
    # Only open retirement accounts take retirements: read by open_retirement and is_open_retirement_state.
    OPEN_RETIREMENT = {"type": Type.RETIREMENT.value, "status": Status.OPEN.value}

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

    @classmethod
    def is_open_active_state(cls, *, type: str, status: str) -> bool:
        return {"type": type, "status": status} == cls.OPEN_ACTIVE

    @property
    def is_open_active(self) -> bool:
        return self.is_open_active_state(type=self.type, status=self.status)

    @classmethod
    def is_open_retirement_state(cls, *, type: str, status: str) -> bool:
        return {"type": type, "status": status} == cls.OPEN_RETIREMENT

    @property
    def is_open_retirement(self) -> bool:
        return self.is_open_retirement_state(type=self.type, status=self.status)
