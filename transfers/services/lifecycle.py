"""The transfer lifecycle: create, accept, reject, withdraw, expire, export and retire.

Each service that changes one transfer is one atomic transaction that locks what it touches
(transfer row, then batches in primary-key order, then accounts and organizations FOR SHARE),
changes statuses by compare-and-swap, and writes its ledger events in the same transaction;
transfers_expire expires each overdue transfer in a transaction of its own."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from accounts.models import Account
from accounts.selectors import organization_can_receive
from accounts.services import accounts_lock_for_share, accounts_lock_for_share_in
from certificates.models import CertificateBatch
from certificates.services import batches_lock, batches_lock_in, batches_set_state, batches_take
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_write
from registry.models import Organization, TrackingSystem, User
from registry.services import (
    ServiceConflict,
    ServiceError,
    organization_lock_for_share,
    role_refused,
    role_require,
    staff_require,
)
from utilities.rows import RoundTrip
from utilities.wakeups import Wakeup

from ..models import NOTES_MAX_LENGTH, Transfer, TransferItem, TransferNotification, destination_label
from ..selectors import batches_already_in

Kind = Transfer.Kind
BatchStatus = CertificateBatch.Status
TRANSFER_CHUNK = 2000  # batches locked and moved at a time inside one transfer's transaction
# After a commit that owes emails (also sent every NOTIFICATION_SEND_SECONDS by beat).
notifications_nudge = Wakeup("transfers.tasks.send_transfer_notifications", owed="the emails owed (in the outbox)")


class TransferRefused(ServiceError):
    pass


class TransferConflict(TransferRefused, ServiceConflict):
    """A transfer (or upload) no longer in the state the request needs: decided already, or changed
    meanwhile."""


class DraftAlreadySubmitted(TransferConflict):
    """The wizard's draft was confirmed already (a second confirm, another tab)."""

    def __init__(self):
        super().__init__("This transfer has already been submitted.")


class BatchChanged(TransferConflict):
    """A batch changed since it was selected (some of it moved) or is no longer active: the
    selection must be made again."""


class NotYourDecision(TransferRefused):
    """A decision on a transfer that only its other party makes: the sender accepting or rejecting
    its own transfer, the recipient withdrawing it."""


class AlreadyInAccount(TransferRefused):
    """An internal transfer to the account a batch is already in."""

    def __init__(self, batch: CertificateBatch, account: Account):
        super().__init__(f"Batch {batch.serial_number} is already in account {account.public_id}; "
                         "choose another account.")


class CannotReceive(TransferRefused):
    """A transfer to an organization with no open active account: it could never be accepted."""

    def __init__(self, organization: Organization):
        super().__init__(f"{organization.public_id} has no account that can receive certificates yet.")


class NotPending(TransferConflict):
    """A decision (accept, reject, withdraw, expire, an export's answer) on a transfer no longer pending:
    one wording, for the pages, the API and the admin."""

    WORDING = {
        Transfer.Status.COMPLETE: "This transfer is already complete.",
        Transfer.Status.REJECTED: "This transfer was already rejected.",
        Transfer.Status.WITHDRAWN: "This transfer was already withdrawn.",
        Transfer.Status.EXPIRED: "This transfer has already expired.",
        Transfer.Status.DRAFT: "This transfer has not been submitted.",
        Transfer.Status.FAILED: "This transfer was never made.",
    }

    def __init__(self, transfer: Transfer):
        super().__init__(self.WORDING.get(transfer.status, "This transfer is no longer pending."))


@dataclass(frozen=True, slots=True)
class TransferLine:
    """Move `quantity` (the lowest serials) out of batch `batch_id`."""

    batch_id: int
    quantity: int


@dataclass(frozen=True)
class Destination:
    kind: str
    account: Account | None = None
    organization: Organization | None = None
    tracking_system: TrackingSystem | None = None
    recipient_name: str = ""
    recipient_account_ref: str = ""

    @classmethod
    def internal(cls, account: Account) -> "Destination":
        return cls(kind=Kind.INTERNAL, account=account)

    @classmethod
    def to_organization(cls, organization: Organization) -> "Destination":
        return cls(kind=Kind.ORGANIZATION, organization=organization)

    @classmethod
    def export(cls, tracking_system: TrackingSystem, recipient_name: str,
               recipient_account_ref: str = "") -> "Destination":
        return cls(kind=Kind.EXPORT, tracking_system=tracking_system,
                   recipient_name=recipient_name, recipient_account_ref=recipient_account_ref)

    @classmethod
    def retirement(cls, account: Account) -> "Destination":
        return cls(kind=Kind.RETIREMENT, account=account)

    @property
    def label(self) -> str:
        return destination_label(kind=self.kind, account=self.account, organization=self.organization,
                                 tracking_system=self.tracking_system, recipient_name=self.recipient_name,
                                 recipient_account_ref=self.recipient_account_ref)


def _check_lines(lines: list[TransferLine]) -> None:
    if not lines:
        raise TransferRefused("Select at least one batch to transfer.")
    seen = set()
    for line in lines:
        quantity = line.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise TransferRefused(
                f"Quantity must be a whole number of at least 1 (got {quantity!r})."
            )
        if line.batch_id in seen:
            raise TransferRefused("The same batch is listed twice; give one quantity per batch.")
        seen.add(line.batch_id)


def _check_batches(lines, batches, organization) -> list[tuple[CertificateBatch, int]]:
    takes = []
    for line in lines:
        batch = batches.get(line.batch_id)
        if batch is None or batch.holder.organization_id != organization.pk:
            raise TransferRefused(f"Batch {line.batch_id} is not held by {organization.name}.")
        if not batch.user_may_move:
            raise role_refused(organization)
        if batch.status == BatchStatus.SUPERSEDED:
            raise BatchChanged(
                f"Batch {batch.serial_number} has changed since it was selected (some of it was "
                "moved); nothing was transferred. Select the certificates again."
            )
        if batch.status != BatchStatus.ACTIVE:
            raise BatchChanged(
                f"Batch {batch.serial_number} is {batch.status}; only active certificates can be "
                "transferred."
            )
        if line.quantity > batch.quantity:
            raise TransferRefused(
                f"Quantity {line.quantity:,} is more than batch {batch.serial_number} holds "
                f"({batch.quantity:,})."
            )
        takes.append((batch, line.quantity))
    return takes


def _check_sources(takes, organization) -> None:
    for batch, _ in takes:
        holder = batch.holder
        if holder.organization_status != Organization.Status.ACTIVE:
            raise TransferRefused(f"{organization.name} is suspended and cannot send certificates.")
        if not Account.is_open_active_state(type=holder.account_type, status=holder.account_status):
            raise TransferRefused(
                f"The account holding the certificates is {holder.account_status} and cannot send them."
            )


def _check_destination(*, organization, destination: Destination, locked_accounts: dict[int, dict]) -> None:
    """`locked_accounts`: the destination account as batches_lock share-locked it."""
    if destination.kind in (Kind.INTERNAL, Kind.RETIREMENT):
        account = destination.account
        state = locked_accounts.get(account.pk) if account else None
        wanted_type = Account.Type.ACTIVE if destination.kind == Kind.INTERNAL else Account.Type.RETIREMENT
        if not state or state["organization_id"] != organization.pk:
            raise TransferRefused("Choose one of your organization's own accounts as the destination.")
        if state["type"] != wanted_type or state["status"] != Account.Status.OPEN:
            raise TransferRefused(
                f"Account {account.public_id} is not an open {wanted_type} account "
                f"(it is a {state['status']} {state['type']} account)."
            )
    elif destination.kind == Kind.ORGANIZATION:
        recipient = destination.organization
        if recipient is None:
            raise TransferRefused("Choose the organization to transfer to.")
        if recipient.pk == organization.pk:
            raise TransferRefused(
                f"You cannot transfer to your own organization this way; choose '{Kind.INTERNAL.label}'."
            )
        if organization_lock_for_share(recipient.pk) != Organization.Status.ACTIVE:
            raise TransferRefused(f"{recipient.name} is suspended and cannot receive certificates.")
        # It could never be accepted. (An account closed after this is met where the recipient
        # accepts: it is told what to do, and may still reject.)
        if not organization_can_receive(recipient):
            raise CannotReceive(recipient)
    elif destination.kind == Kind.EXPORT:
        if destination.tracking_system is None or not destination.tracking_system.is_active:
            raise TransferRefused("Choose a tracking system to export to.")
        if not destination.recipient_name.strip():
            raise TransferRefused("Enter the recipient's name at the receiving tracking system.")
    else:
        raise TransferRefused("Choose the type of transfer.")


# The draft's lock and the new transfer's id travel in the batches' lock round trip (RoundTrip, which
# sends statements, not querysets: an ORM query would read its answer at once and end the round trip);
# one round trip for the locks is part of what bench/transfer_service.py measured (BATCH_LOCK_SQL).
DRAFT_LOCK_SQL = f"SELECT status FROM {Transfer._meta.db_table} WHERE id = %s AND organization_id = %s FOR UPDATE"
# The new transfer's id, drawn ahead (the ORM draws no ids ahead) so that its row is written with
# the ledger events (ledger_write's with_rows).
TRANSFER_ID_SQL = f"SELECT nextval(pg_get_serial_sequence('{Transfer._meta.db_table}', 'id'))"


@transaction.atomic(durable=True)
def transfer_create(*, organization: Organization, user: User, lines: list[TransferLine],
                    destination: Destination, notes: str = "", draft: Transfer | None = None) -> Transfer:
    """Move batch quantities of `organization` to one destination, in a transaction of its own
    (see transfer_write)."""
    return transfer_write(organization=organization, user=user, lines=lines, destination=destination, notes=notes,
                          draft=draft)


@transaction.atomic
def transfer_write(*, organization: Organization, user: User, lines: list[TransferLine],
                   destination: Destination, notes: str = "", draft: Transfer | None = None,
                   details_for: Callable[[Transfer], Model] | None = None) -> Transfer:
    """Move batch quantities of `organization` to one destination, inside the caller's transaction
    (the services that make several transfers, a retirement, and the API's exactly-once request call
    this; others transfer_create).
    `details_for(transfer)` gives the caller's own new row of the same change (a retirement's
    details), written in the transfer's statement and recorded in its initiating event, under the
    row's `ledger_key`, as its `snapshot()`.

    Internal and retirement transfers complete at once; transfers to another organization and
    exports are pending, their batches frozen in the sender's account until accepted, rejected,
    withdrawn or expired. Only active batches of the organization's open active accounts move;
    a partial move takes the lowest serials. With `draft`, the wizard's draft becomes this
    transfer, once: a second confirm of the same draft is refused.

    The transfer returned says, by the id of each source batch, which batch moved (`moved`: the
    batch itself when all of it moved) and which stayed (`remainders`: None when none did).
    """
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise TransferRefused(f"Notes are limited to {NOTES_MAX_LENGTH} characters.")
    _check_lines(lines)
    # The role is checked with the batches' lock, in the same statement (see batches_lock); a draft
    # is locked in the same round trip, before the batches.

    now = timezone.now()
    completes_at_once = destination.kind in (Kind.INTERNAL, Kind.RETIREMENT)
    if destination.kind == Kind.INTERNAL:
        target_account, target_status = destination.account.pk, BatchStatus.ACTIVE
    elif destination.kind == Kind.RETIREMENT:
        target_account, target_status = destination.account.pk, BatchStatus.RETIRED
    else:  # stays in the sender's account, frozen, until the other party acts
        target_account, target_status = None, BatchStatus.PENDING

    # Large transfers (a mass upload) move in chunks, in one transaction and in primary-key order
    # throughout, so memory stays flat; a refusal in any chunk undoes them all.
    ordered = sorted(lines, key=lambda line: line.batch_id)
    transfer = None
    moved_ids, remainders = {}, {}
    for offset in range(0, len(ordered), TRANSFER_CHUNK):
        chunk = ordered[offset:offset + TRANSFER_CHUNK]
        first_chunk = transfer is None  # it draws a new transfer's id and locks the destination account
        trip = RoundTrip()  # the chunk's locks in one round trip: the draft's, the batches', the destination's
        # The draft, locked first: a second confirm of it waits there, then is refused.
        draft_status = (trip.add(DRAFT_LOCK_SQL, [draft.pk, organization.pk])
                        if first_chunk and draft is not None else None)
        batches = batches_lock_in(trip, (line.batch_id for line in chunk), user_id=user.pk)
        new_id = trip.add(TRANSFER_ID_SQL) if first_chunk and draft is None else None
        destination_accounts = accounts_lock_for_share_in(
            trip, [destination.account.pk] if first_chunk and destination.account else [])
        trip.send()
        locked = batches.value
        if draft_status is not None and draft_status.value != [(Transfer.Status.DRAFT,)]:
            raise DraftAlreadySubmitted()
        takes = _check_batches(chunk, locked, organization)
        if destination.kind == Kind.INTERNAL and destination.account is not None:
            if held := batches_already_in(destination.account.pk, [batch for batch, _ in takes]):
                raise AlreadyInAccount(held[0], destination.account)
        _check_sources(takes, organization)
        if first_chunk:
            _check_destination(organization=organization, destination=destination,
                               locked_accounts=destination_accounts.value)
            fields = dict(
                kind=destination.kind,
                status=Transfer.Status.COMPLETE if completes_at_once else Transfer.Status.PENDING,
                organization=organization, destination_account=destination.account,
                recipient_organization=destination.organization, tracking_system=destination.tracking_system,
                recipient_name=destination.recipient_name.strip(),
                recipient_account_ref=destination.recipient_account_ref.strip(), notes=notes,
                submitted_at=now, decided_at=now if completes_at_once else None,
            )
            if draft is not None:
                if Transfer.objects.filter(pk=draft.pk, status=Transfer.Status.DRAFT).update(**fields) != 1:
                    raise DraftAlreadySubmitted()
                transfer = draft  # as the database now holds it: the locked draft, with `fields` set
                for name, value in fields.items():
                    setattr(transfer, name, value)
            else:  # written below, with the ledger events, in their statement
                transfer = Transfer(pk=new_id.value[0][0], created_by=user, created_at=now, **fields)
            details = details_for(transfer) if details_for is not None else None

        sources = [batch.snapshot() for batch, _ in takes]
        came_from = {batch.pk: batch.account_id for batch, _ in takes}  # a whole batch's moves with it
        moved_batches = []
        for account_id in sorted({batch.account_id for batch, _ in takes}):  # "stays where it was" exact
            group = [(batch, quantity) for batch, quantity in takes if batch.account_id == account_id]
            moved = batches_take(  # and the split events, in its statement
                takes=group, account_id=target_account or account_id, status=target_status,
                actor=user, organization=organization,
            )
            moved_batches += list(zip(moved, group, strict=True))
        for moved, (source, _) in moved_batches:  # ids only: a mass transfer has 100,000 of them
            moved_ids[source.pk] = moved.pk
            remainders[source.pk] = source.remainder.pk if hasattr(source, "remainder") else None
        items = [TransferItem(transfer_id=transfer.pk, batch_id=moved.pk, source_batch_id=source.pk,
                              source_account_id=came_from[source.pk]) for moved, (source, _) in moved_batches]
        # The initiating event records the batches before and after; a transfer of more than one
        # chunk has one such event per chunk, all in this transaction.
        initiating = LedgerEvent.Kind.RETIREMENT if destination.kind == Kind.RETIREMENT \
            else LedgerEvent.Kind.TRANSFER_INITIATED
        after = {"status": transfer.status, "batches": [moved.snapshot() for moved, _ in moved_batches]}
        if details is not None:
            after[details.ledger_key] = details.snapshot()
        events = [ledger_event(kind=initiating, actor=user, organization=organization, transfer=transfer,
                               account=destination.account, before={"batches": sources}, after=after, note=notes)]
        owed = [] if offset else [_notification_owed(transfer, initiating)]
        details_rows = [details] if details is not None and not offset else []
        ledger_write(events, with_rows=[[transfer] if transfer._state.adding else [], items, details_rows, owed])

    transfer.moved, transfer.remainders = moved_ids, remainders
    return transfer


def _lock_pending(transfer_id: int, *, by: Organization | None = None, decision: str = "", **scope) -> Transfer:
    """The transfer, locked, if it is pending. With `by`, one that `by` sent or was sent, whose
    `decision` is its part: the recipient accepts and rejects, the sender withdraws; the other party
    is told so."""
    transfer = Transfer.objects.select_for_update().filter(pk=transfer_id, **scope)
    if by is not None:
        transfer = transfer.filter(Q(organization=by) | Q(recipient_organization=by))
    transfer = transfer.first()
    if transfer is None:
        raise TransferRefused("There is no such transfer.")
    if by is not None and decision == "withdraw" and transfer.organization_id != by.pk:
        raise NotYourDecision(f"Only the sender, {transfer.organization.name}, can withdraw this transfer; you "
                              "can accept or reject it.")
    if by is not None and decision != "withdraw" and transfer.recipient_organization_id != by.pk:
        raise NotYourDecision(f"You sent this transfer; only the recipient, {transfer.recipient_organization.name}, "
                              f"can {decision} it.")
    if transfer.status != Transfer.Status.PENDING:
        raise NotPending(transfer)
    return transfer


def _pending_batches(transfer: Transfer) -> list[CertificateBatch]:
    ids = list(transfer.items.values_list("batch_id", flat=True))
    batches = list(batches_lock(ids).values())
    if len(batches) != len(ids) or any(b.status != BatchStatus.PENDING for b in batches):
        raise TransferConflict("The certificates of this transfer are not all pending; nothing changed.")
    return batches


def _close(transfer: Transfer, *, status: str, user: User | None, note: str = "") -> None:
    now = timezone.now()
    updated = Transfer.objects.filter(pk=transfer.pk, status=Transfer.Status.PENDING).update(
        status=status, decided_at=now, decided_by=user, decision_note=note,
        destination_account=transfer.destination_account,
    )
    if updated != 1:
        raise TransferConflict("This transfer changed meanwhile; nothing changed.")
    transfer.status, transfer.decided_at, transfer.decided_by, transfer.decision_note = status, now, user, note


def _return_batches(*, transfer: Transfer, user: User | None, status: str, kind: str, note: str = "") -> None:
    """Rejected, withdrawn, expired: every batch goes back, active, to the account it came from."""
    batches = _pending_batches(transfer)
    before = [batch.snapshot() for batch in batches]
    batches_set_state(batches=batches, from_status=BatchStatus.PENDING, to_status=BatchStatus.ACTIVE)
    _close(transfer, status=status, user=user, note=note)
    ledger_write([ledger_event(
        kind=kind, actor=user, organization=transfer.organization, transfer=transfer,
        before={"status": Transfer.Status.PENDING, "batches": before},
        after={"status": status, "batches": [batch.snapshot() for batch in batches]}, note=note,
    )], with_rows=[[_notification_owed(transfer, kind)]])


@transaction.atomic  # joins the API's exactly-once request (api/idempotency.py)
def transfer_accept(*, transfer: Transfer, user: User, organization: Organization, account: Account) -> Transfer:
    """The recipient takes a pending transfer into one of its open active accounts."""
    role_require(user=user, organization=organization)
    transfer = _lock_pending(transfer.pk, by=organization, decision="accept", kind=Kind.ORGANIZATION)
    batches = _pending_batches(transfer)
    state = accounts_lock_for_share([account.pk]).get(account.pk)
    if not state or state["organization_id"] != organization.pk:
        raise TransferRefused("Choose one of your organization's own accounts.")
    if state["organization_status"] != Organization.Status.ACTIVE:
        raise TransferRefused(f"{organization.name} is suspended and cannot receive certificates.")
    if not Account.is_open_active_state(type=state["type"], status=state["status"]):
        raise TransferRefused(f"Account {account.public_id} is not an open active account.")
    before = [batch.snapshot() for batch in batches]
    batches_set_state(batches=batches, from_status=BatchStatus.PENDING, to_status=BatchStatus.ACTIVE,
                      account_id=account.pk)
    transfer.destination_account = account
    _close(transfer, status=Transfer.Status.COMPLETE, user=user)
    ledger_write([ledger_event(
        kind=LedgerEvent.Kind.TRANSFER_ACCEPTED, actor=user, organization=organization,
        transfer=transfer, account=account,
        before={"status": Transfer.Status.PENDING, "batches": before},
        after={"status": Transfer.Status.COMPLETE, "batches": [b.snapshot() for b in batches]},
    )], with_rows=[[_notification_owed(transfer, LedgerEvent.Kind.TRANSFER_ACCEPTED)]])
    return transfer


@transaction.atomic  # joins the API's exactly-once request (api/idempotency.py)
def transfer_reject(*, transfer: Transfer, user: User, organization: Organization, note: str = "") -> Transfer:
    """The recipient refuses a pending transfer; the certificates return to the sender."""
    role_require(user=user, organization=organization)
    transfer = _lock_pending(transfer.pk, by=organization, decision="reject", kind=Kind.ORGANIZATION)
    _return_batches(transfer=transfer, user=user, status=Transfer.Status.REJECTED,
                    kind=LedgerEvent.Kind.TRANSFER_REJECTED, note=note)
    return transfer


@transaction.atomic  # joins the API's exactly-once request (api/idempotency.py)
def transfer_withdraw(*, transfer: Transfer, user: User, organization: Organization) -> Transfer:
    """The sender takes back a transfer to another organization while it is still pending."""
    role_require(user=user, organization=organization)
    transfer = _lock_pending(transfer.pk, by=organization, decision="withdraw", kind=Kind.ORGANIZATION)
    _return_batches(transfer=transfer, user=user, status=Transfer.Status.WITHDRAWN,
                    kind=LedgerEvent.Kind.TRANSFER_WITHDRAWN)
    return transfer


@transaction.atomic(durable=True)
def transfer_expire(*, transfer: Transfer, now: datetime.datetime | None = None) -> Transfer:
    """A transfer to another organization left pending past TRANSFER_PENDING_DAYS goes back."""
    transfer = _lock_pending(transfer.pk, kind=Kind.ORGANIZATION)
    if transfer.expires_at > (now or timezone.now()):
        raise TransferRefused("This transfer has not expired yet.")
    _return_batches(transfer=transfer, user=None, status=Transfer.Status.EXPIRED,
                    kind=LedgerEvent.Kind.TRANSFER_EXPIRED)
    return transfer


def transfers_expire(*, now: datetime.datetime | None = None) -> int:
    """Expire every overdue pending transfer, each in its own transaction. Returns how many."""
    overdue = Transfer.objects.filter(
        kind=Kind.ORGANIZATION, status=Transfer.Status.PENDING,
        submitted_at__lte=Transfer.expiry_cutoff(now or timezone.now()),
    ).values_list("pk", flat=True)
    expired = 0
    for transfer_id in list(overdue):
        try:
            transfer_expire(transfer=Transfer(pk=transfer_id), now=now)
            expired += 1
        except TransferRefused:  # accepted, rejected or withdrawn meanwhile
            continue
    return expired


@transaction.atomic(durable=True)
def export_confirm(*, transfer: Transfer, user: User, note: str = "") -> Transfer:
    """Registry staff: the receiving tracking system accepted the export; batches become exported."""
    staff_require(user=user)
    transfer = _lock_pending(transfer.pk, kind=Kind.EXPORT)
    batches = _pending_batches(transfer)
    before = [batch.snapshot() for batch in batches]
    batches_set_state(batches=batches, from_status=BatchStatus.PENDING, to_status=BatchStatus.EXPORTED)
    _close(transfer, status=Transfer.Status.COMPLETE, user=user, note=note)
    ledger_write([ledger_event(
        kind=LedgerEvent.Kind.EXPORT_CONFIRMED, actor=user, organization=transfer.organization,
        transfer=transfer, before={"status": Transfer.Status.PENDING, "batches": before},
        after={"status": Transfer.Status.COMPLETE, "batches": [b.snapshot() for b in batches]}, note=note,
    )], with_rows=[[_notification_owed(transfer, LedgerEvent.Kind.EXPORT_CONFIRMED)]])
    return transfer


@transaction.atomic(durable=True)
def export_reject(*, transfer: Transfer, user: User, note: str = "") -> Transfer:
    """Registry staff: the receiving tracking system refused the export; the certificates return."""
    staff_require(user=user)
    transfer = _lock_pending(transfer.pk, kind=Kind.EXPORT)
    _return_batches(transfer=transfer, user=user, status=Transfer.Status.REJECTED,
                    kind=LedgerEvent.Kind.EXPORT_REJECTED, note=note)
    return transfer


def _notification_owed(transfer: Transfer, event_kind: str) -> TransferNotification:
    """The email both parties are owed for this step, to write with the step's ledger events; a
    worker sends it once the change commits (see TransferNotification)."""
    transaction.on_commit(notifications_nudge)
    return TransferNotification(transfer=transfer, event_kind=event_kind)
