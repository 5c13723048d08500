"""A transfer's value objects and refusals: what a request names (its lines, its destination) and
how a service says no. It imports nothing else from `transfers`, so the forms, the mass validator,
the standing instructions and the API read the same words as the services without importing them.

Every refusal carries the field it concerns (`TransferRefused.problems`, field -> message), in the
services' own vocabulary:

- `lines`: the lines as a whole (none given); `lines.<i>.batch`, `lines.<i>.quantity`: the line at
  index `i` of the call's `lines`;
- `destination`: its kind; `destination.account`, `destination.organization`,
  `destination.tracking_system`, `destination.recipient_name`, `destination.recipient_account_ref`;
- `account`: the account a recipient accepts a transfer into;
- `notes`: the transfer's notes;
- `retirement.<detail>`: a retirement's details (RetirementDetails' fields);
- `upload`: a mass upload's file;
- `__all__` (ALL): the request as a whole (a decision already made, a transfer that is not there,
  an organization that may not send).

`str(refusal)` is the plain message (the messages, in order, when there are several) for pages.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import models

from accounts.models import Account
from certificates.models import CertificateBatch
from registry.errors import ServiceConflict, ServiceError
from registry.models import Organization, TrackingSystem

ALL = "__all__"  # the key of a refusal of the whole request


class TransferKind(models.TextChoices):
    INTERNAL = "internal", "To active accounts"
    ORGANIZATION = "organization", "To another organization"
    EXPORT = "export", "Out of the platform"
    RETIREMENT = "retirement", "Retirement"


class TransferStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending"
    COMPLETE = "complete", "Complete"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Failed"


def line_field(index: int, name: str) -> str:
    """The problems' key of field `name` ("batch", "quantity") of the line at `index` of the call."""
    return f"lines.{index}.{name}"


class TransferRefused(ServiceError):
    """A transfer service's refusal, by the field it concerns (see the module's docstring): one
    message, `TransferRefused(message, field=...)`, or several, `TransferRefused(problems={...})`.
    Without a field it concerns the whole request."""

    def __init__(self, message: str = "", *, field: str = ALL, problems: Mapping[str, str] | None = None):
        self.problems: dict[str, str] = dict(problems) if problems else {field: message}
        super().__init__(" ".join(self.problems.values()))


class TransferConflict(TransferRefused, ServiceConflict):
    """A transfer (or upload) no longer in the state the request needs: decided already, or changed
    meanwhile."""


class DraftAlreadySubmitted(TransferConflict):
    """The wizard's draft was confirmed already (a second confirm, another tab)."""

    def __init__(self):
        super().__init__("This transfer has already been submitted.")


class BatchChanged(TransferConflict):
    """A batch changed since it was selected (some of it moved) or is no longer active: the
    selection must be made again. Its field is the line's batch (`lines.<i>.batch`)."""


class NotYourDecision(TransferRefused):
    """A decision on a transfer that only its other party makes: the sender accepting or rejecting
    its own transfer, the recipient withdrawing it."""


class AlreadyInAccount(TransferRefused):
    """An internal transfer to the account a batch is already in."""

    def __init__(self, batch: CertificateBatch, account: Account):
        super().__init__(f"Batch {batch.serial_number} is already in account {account.public_id}; "
                         "choose another account.", field="destination.account")


class CannotReceive(TransferRefused):
    """A transfer to an organization with no open active account: it could never be accepted."""

    def __init__(self, organization: Organization):
        super().__init__(f"{organization.public_id} has no account that can receive certificates yet.",
                         field="destination.organization")


class NotPending(TransferConflict):
    """A decision (accept, reject, withdraw, expire, an export's answer) on a transfer no longer pending:
    one wording, for the pages, the API and the admin."""

    WORDING = {
        TransferStatus.COMPLETE: "This transfer is already complete.",
        TransferStatus.REJECTED: "This transfer was already rejected.",
        TransferStatus.WITHDRAWN: "This transfer was already withdrawn.",
        TransferStatus.EXPIRED: "This transfer has already expired.",
        TransferStatus.DRAFT: "This transfer has not been submitted.",
        TransferStatus.FAILED: "This transfer was never made.",
    }

    def __init__(self, transfer):
        super().__init__(self.WORDING.get(transfer.status, "This transfer is no longer pending."))


@dataclass(frozen=True, slots=True)
class TransferLine:
    """Move `quantity` (the lowest serials) out of batch `batch_id`."""

    batch_id: int
    quantity: int


def destination_label(*, kind: str, account: Account | None = None, organization: Organization | None = None,
                      tracking_system: TrackingSystem | None = None, recipient_name: str = "",
                      recipient_account_ref: str = "") -> str:
    """Where a transfer's certificates go, as a person reads it: one wording for the wizard's
    review, the transfer's pages and its transaction summary."""
    if kind == TransferKind.ORGANIZATION and organization is not None:
        return f"{organization.name} ({organization.public_id})"
    if kind == TransferKind.EXPORT and tracking_system is not None:
        reference = f", account {recipient_account_ref}" if recipient_account_ref else ""
        return f"{recipient_name} at {tracking_system.name}{reference}"
    if account is not None:  # internal, retirement
        return f"{account.name} ({account.public_id})"
    return ""


@dataclass(frozen=True)
class Destination:
    """Where a transfer's certificates go: one of the organization's own accounts (internal, or
    retirement), another organization, or another tracking system (export)."""

    kind: str
    account: Account | None = None
    organization: Organization | None = None
    tracking_system: TrackingSystem | None = None
    recipient_name: str = ""
    recipient_account_ref: str = ""

    @classmethod
    def internal(cls, account: Account) -> "Destination":
        return cls(kind=TransferKind.INTERNAL, account=account)

    @classmethod
    def to_organization(cls, organization: Organization) -> "Destination":
        return cls(kind=TransferKind.ORGANIZATION, organization=organization)

    @classmethod
    def export(cls, tracking_system: TrackingSystem, recipient_name: str,
               recipient_account_ref: str = "") -> "Destination":
        return cls(kind=TransferKind.EXPORT, tracking_system=tracking_system,
                   recipient_name=recipient_name, recipient_account_ref=recipient_account_ref)

    @classmethod
    def retirement(cls, account: Account) -> "Destination":
        return cls(kind=TransferKind.RETIREMENT, account=account)

    @property
    def label(self) -> str:
        return destination_label(kind=self.kind, account=self.account, organization=self.organization,
                                 tracking_system=self.tracking_system, recipient_name=self.recipient_name,
                                 recipient_account_ref=self.recipient_account_ref)
