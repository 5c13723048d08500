"""A transfer's value objects and refusals: what a request names (its lines, its destination) and
how a service says no. It imports nothing else from `transfers`, so the forms, the mass validator,
the standing instructions and the API read the same words as the services without importing them.

Every refusal carries the field it concerns (`TransferRefused.problems`, field -> message), in the
services' own vocabulary:

- `lines`: the lines as a whole (none given); `lines.<i>.batch`, `lines.<i>.quantity`: the line at
  index `i` of the call's `lines` (BatchChanged, a conflict, names its line's batch too);
- `destination`: its kind; `destination.account` (a retirement's account too),
  `destination.organization`, `destination.tracking_system`, `destination.recipient_name`,
  `destination.recipient_account_ref`;
- `account`: the account a recipient accepts a transfer into;
- `notes`: the transfer's notes;
- `retirement.<detail>`: a retirement's details (RetirementDetails' fields);
- `upload`: a mass upload's file;
- `__all__` (ALL): the request as a whole (a decision already made, a transfer that is not there,
  an organization that may not send).

`str(refusal)` is the plain message (the messages, in order, when there are several) for pages.

The rules themselves are here too, each a `problems()` that returns field -> message and refuses
nothing (as RetirementDetails.problems): Destination.problems (where certificates may go) and
TransferLine.problems (what a line needs). Callers without locks ask them of what they read; the
transfer service asks them again under its locks; the words are the same.
"""

from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from django.db import models

from accounts.models import Account
from accounts.selectors import organization_can_receive
from certificates.models import CertificateBatch
from registry.errors import ServiceConflict, ServiceError
from registry.models import Organization, TrackingSystem

ALL = "__all__"  # the key of a refusal of the whole request
ACTIVE, SUPERSEDED = CertificateBatch.Status.ACTIVE.value, CertificateBatch.Status.SUPERSEDED.value


class TransferKind(models.TextChoices):
    INTERNAL = "internal", "To active accounts"
    ORGANIZATION = "organization", "To another organization"
    EXPORT = "export", "Out of the platform"
    RETIREMENT = "retirement", "Retirement"
    # Into the platform: an import by conversion (imports), sent by the source tracking system's stand-in
    # organization to its recipient, who accepts or rejects it as a transfer from another organization.
    IMPORT = "import", "Import from another tracking system"


INTERNAL = TransferKind.INTERNAL.value


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

    def problems(self, batch, organization: Organization) -> dict[str, str]:
        """What is wrong with this line, by field ("batch", "quantity"), with the reason: the one
        statement of what a line needs, for the mass validator (as the ledger is now) and the
        transfer service (under its lock). `batch`: the batch as read (None: there is none), with
        `holder` (certificates.services.Holder: its account's organization, type and status),
        `status`, `quantity` and `serial_number`."""
        problems = {}
        if quantity_problem := self.quantity_problem():
            problems["quantity"] = quantity_problem
        holder = None if batch is None else batch.holder
        if holder is None or holder.organization_id != organization.pk:
            problems["batch"] = f"Batch {self.batch_id if batch is None else batch.serial_number} is not held by " \
                                f"{organization.name}."
        elif batch.status == SUPERSEDED:
            problems["batch"] = (f"Batch {batch.serial_number} has changed since it was selected (some of it was "
                                 "moved); nothing was transferred. Select the certificates again.")
        elif batch.status != ACTIVE:
            problems["batch"] = (f"Batch {batch.serial_number} is {batch.status}; only active certificates can be "
                                 "transferred.")
        elif not Account.is_open_active_state(type=holder.account_type, status=holder.account_status):
            problems["batch"] = (f"The account holding the certificates is {holder.account_status} and cannot "
                                 "send them.")
        elif not quantity_problem and (quantity_problem := self.quantity_problem(batch)):
            problems["quantity"] = quantity_problem
        return problems

    def quantity_problem(self, batch=None) -> str | None:
        """What is wrong with the quantity: not a whole number of at least 1, or (given the `batch`,
        with its `quantity` and `serial_number`) more than it holds. The one wording of it, for the
        wizard's first step and the API's lines before the lock, and for problems() under it."""
        quantity = self.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            return f"Quantity must be a whole number of at least 1 (got {quantity!r})."
        if batch is not None and quantity > batch.quantity:
            return f"Quantity {quantity:,} is more than batch {batch.serial_number} holds ({batch.quantity:,})."
        return None


RECIPIENT_NAME_MAX_LENGTH, RECIPIENT_ACCOUNT_REF_MAX_LENGTH = 200, 100  # an export's (Transfer's fields)
RECIPIENT_NAME_REQUIRED = "Enter the recipient's name at the receiving tracking system."
DESTINATION_FIELDS = ("destination", "destination.account", "destination.organization", "destination.tracking_system",
                      "destination.recipient_name", "destination.recipient_account_ref")


def not_one_of_accounts(public_id: str, organization: Organization, wanted: str) -> str:
    """Why an account named by its id is not a destination: not one of `organization`'s open
    accounts of type `wanted` (for those that look an account up by the id given, the same words)."""
    return f"Account {public_id} is not one of {organization.name}'s open {wanted} accounts."


def suspended_cannot_receive(organization: Organization) -> str:
    """Why a suspended organization's accounts take no certificates (a transfer to it, or its acceptance)."""
    return f"{organization.name} is suspended and cannot receive certificates."


def destination_label(*, kind: str, account: Account | None = None, organization: Organization | None = None,
                      tracking_system: TrackingSystem | None = None, recipient_name: str = "",
                      recipient_account_ref: str = "") -> str:
    """Where a transfer's certificates go, as a person reads it: one wording for the wizard's
    review, the transfer's pages and its transaction summary."""
    if kind in (TransferKind.ORGANIZATION, TransferKind.IMPORT) and organization is not None:  # an import's recipient
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

    def problems(self, organization: Organization, *, batches: Iterable = (), account_state: Mapping | None = None,
                 recipient_status: str | None = None, receiving: Container[int] | None = None) -> dict[str, str]:
        """Why `organization` cannot send certificates here, by field (DESTINATION_FIELDS), with the
        reason: the one statement of where certificates may go, for the wizard's and the standing
        instructions' forms, the mass validator, the instructions and the API (as things are now),
        and the transfer service, which asks again under its locks with what it locked:
        `account_state` (the account's organization_id, type, status and organization_status, as
        accounts_lock_for_share reads them) and `recipient_status`. `batches`: those the transfer
        moves (an internal transfer never goes to the account a batch is in); `receiving`: the ids
        of organizations known able to receive (accounts.selectors.organizations_able_to_receive),
        read for the recipient when not given."""
        if self.kind in (INTERNAL, TransferKind.RETIREMENT.value):
            problem = self._account_problem(organization, batches, account_state)
            return {"destination.account": problem} if problem else {}
        if self.kind == TransferKind.ORGANIZATION:
            problem = self._recipient_problem(organization, recipient_status, receiving)
            return {"destination.organization": problem} if problem else {}
        if self.kind == TransferKind.EXPORT:
            problems = {}
            if self.tracking_system is None or not self.tracking_system.is_active:
                problems["destination.tracking_system"] = "Choose the tracking system to export to."
            if not self.recipient_name.strip():
                problems["destination.recipient_name"] = RECIPIENT_NAME_REQUIRED
            elif len(self.recipient_name.strip()) > RECIPIENT_NAME_MAX_LENGTH:
                problems["destination.recipient_name"] = (f"The recipient's name is limited to "
                                                          f"{RECIPIENT_NAME_MAX_LENGTH} characters.")
            if len(self.recipient_account_ref.strip()) > RECIPIENT_ACCOUNT_REF_MAX_LENGTH:
                problems["destination.recipient_account_ref"] = (f"The recipient's account ID is limited to "
                                                                 f"{RECIPIENT_ACCOUNT_REF_MAX_LENGTH} characters.")
            return problems
        return {"destination": "Choose the type of transfer."}

    def _account_problem(self, organization, batches, state) -> str:
        internal, account = self.kind == INTERNAL, self.account
        if account is None:
            return "Choose the active account to transfer to." if internal else "Choose the retirement account."
        if state is None:  # as read, unlocked: its organization is `organization`, if it is ours
            owner, kind, status, owner_status = (account.organization_id, account.type, account.status,
                                                 organization.status)
        else:
            owner, kind, status, owner_status = (state["organization_id"], state["type"], state["status"],
                                                 state["organization_status"])
        wanted = Account.Type.ACTIVE.value if internal else Account.Type.RETIREMENT.value
        if owner != organization.pk:
            return not_one_of_accounts(account.public_id, organization, wanted)
        is_open = Account.is_open_active_state if internal else Account.is_open_retirement_state
        if not is_open(type=kind, status=status):
            article = "an" if status == Account.Status.OPEN else "a"
            return (f"Account {account.public_id} is not an open {wanted} account "
                    f"(it is {article} {status} {kind} account).")
        if owner_status != Organization.Status.ACTIVE:
            return suspended_cannot_receive(organization)
        if internal:
            for batch in batches:
                if batch.account_id == account.pk:
                    return str(AlreadyInAccount(batch, account))
        return ""

    def _recipient_problem(self, organization, status, receiving) -> str:
        recipient = self.organization
        if recipient is None:
            return "Choose the organization to transfer to."
        if recipient.pk == organization.pk:
            return "This is your own organization; move certificates between your own accounts instead."
        if (recipient.status if status is None else status) != Organization.Status.ACTIVE:
            return suspended_cannot_receive(recipient)
        if not (recipient.pk in receiving if receiving is not None else organization_can_receive(recipient)):
            return str(CannotReceive(recipient))
        return ""

    @property
    def label(self) -> str:
        return destination_label(kind=self.kind, account=self.account, organization=self.organization,
                                 tracking_system=self.tracking_system, recipient_name=self.recipient_name,
                                 recipient_account_ref=self.recipient_account_ref)
