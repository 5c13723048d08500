"""The transfer lifecycle: create, accept, reject, withdraw, expire, export and retire.

Each service that changes one transfer is one atomic transaction that locks what it touches
(transfer row, then batches in primary-key order, then accounts and organizations FOR SHARE),
changes statuses by compare-and-swap, and writes its ledger events in the same transaction;
transfers_expire expires each overdue transfer in a transaction of its own."""

import datetime
from collections.abc import Callable
from typing import NamedTuple

from django.db import transaction
from django.db.models import Model, Q
from django.utils import timezone

from accounts.models import Account
from accounts.services import accounts_lock_for_share, accounts_lock_for_share_in
from certificates.models import CertificateBatch
from certificates.reviews import organization_refusal, review_today
from certificates.services import batches_lock, batches_lock_in, batches_set_state, batches_take
from events.models import Event
from events.services import event_new, events_owed
from ledger.models import LedgerEvent
from ledger.services import ledger_event, ledger_write
from registry.models import Organization, User
from registry.services import (
    organization_lock_for_share,
    role_refused,
    role_require,
    staff_require,
)
from utilities.rows import RoundTrip

from ..models import NOTES_MAX_LENGTH, Transfer, TransferItem
from ..selectors import batches_already_in, transfer_decision_refused
from ..values import (
    AlreadyInAccount,
    BatchChanged,
    Destination,
    DraftAlreadySubmitted,
    NotPending,
    TransferConflict,
    TransferLine,
    TransferRefused,
    line_field,
)

Kind = Transfer.Kind
BatchStatus = CertificateBatch.Status
TRANSFER_CHUNK = 2000  # batches locked and moved at a time inside one transfer's transaction


def _lines_check(lines: list[TransferLine]) -> None:
    """What the lines must be as a list, before anything is locked (each line's own problems are
    TransferLine.problems, under the lock)."""
    if not lines:
        raise TransferRefused("Select at least one batch to transfer.", field="lines")
    seen = set()
    for index, line in enumerate(lines):
        if line.batch_id in seen:
            raise TransferRefused("The same batch is listed twice; give one quantity per batch.",
                                  field=line_field(index, "batch"))
        seen.add(line.batch_id)


# The draft's lock and the new transfer's id travel in the batches' lock round trip (RoundTrip, which
# sends statements, not querysets: an ORM query would read its answer at once and end the round trip);
# one round trip for the locks is part of what bench/transfer_service.py measured (BATCH_LOCK_SQL).
DRAFT_LOCK_SQL = f"SELECT status FROM {Transfer._meta.db_table} WHERE id = %s AND organization_id = %s FOR UPDATE"
# The new transfer's id, drawn ahead (the ORM draws no ids ahead) so that its row is written with
# the ledger events (ledger_write's with_rows).
TRANSFER_ID_SQL = f"SELECT nextval(pg_get_serial_sequence('{Transfer._meta.db_table}', 'id'))"
NO_ACCOUNT = {"organization_id": None, "type": "", "status": "", "organization_status": ""}  # not found under the lock


class Moves(NamedTuple):
    """What a chunk's move did (_transfer_move), for _transfer_record: each moved batch with its
    (source batch, quantity); the sources' snapshots and accounts as they were before the move; the
    splits' new batches and ledger events, written with the transfer's rows."""

    batches: list[tuple[CertificateBatch, tuple[CertificateBatch, int]]]
    sources: list[dict]
    came_from: dict[int, int]
    split_rows: list[CertificateBatch]
    split_events: list[LedgerEvent]


@transaction.atomic(durable=True)
def transfer_create(*, organization: Organization, user: User, lines: list[TransferLine],
                    destination: Destination, notes: str = "", draft: Transfer | None = None) -> Transfer:
    """Move batch quantities of `organization` to one destination, in a transaction of its own
    (see transfer_write). Its own transaction needs no savepoint: a refusal undoes it all (two round
    trips fewer a transfer than through transfer_write; bench/transfer_service.py)."""
    return _transfer_write(organization=organization, user=user, lines=lines, destination=destination, notes=notes,
                           draft=draft)


@transaction.atomic
def transfer_write(*, organization: Organization, user: User, lines: list[TransferLine],
                   destination: Destination, notes: str = "", draft: Transfer | None = None,
                   details_for: Callable[[Transfer], Model] | None = None,
                   mass_upload_id: int | None = None) -> Transfer:
    """Move batch quantities of `organization` to one destination, inside the caller's transaction
    (the services that make several transfers, a retirement, and the API's exactly-once request call
    this; others transfer_create), under a savepoint of its own: a refused transfer leaves the
    caller's transaction as it was, to go on (a standing instruction tries its next destination).
    `details_for(transfer)` gives the caller's own new row of the same change (a retirement's
    details), written in the transfer's statement and recorded in its initiating event, under the
    row's `ledger_key`, as its `snapshot()`.
    A mass upload's transfer names it (`mass_upload_id`), as its domain event does.

    Internal and retirement transfers complete at once; transfers to another organization and
    exports are pending, their batches frozen in the sender's account until accepted, rejected,
    withdrawn or expired. Only active batches of the organization's open active accounts move;
    a partial move takes the lowest serials. With `draft`, the wizard's draft becomes this
    transfer, once: a second confirm of the same draft is refused.

    The transfer returned says, by the id of each source batch, which batch moved (`moved`: the
    batch itself when all of it moved) and which stayed (`remainders`: None when none did).

    Large transfers (a mass upload) go in chunks, in one transaction and in primary-key order
    throughout, so memory stays flat; a refusal in any chunk undoes them all. Each chunk passes
    through the same phases: lock (_transfer_lock), check (_transfer_check), the transfer's row for
    the first (_transfer_begin), move (_transfer_move) and record (_transfer_record).
    """
    return _transfer_write(organization=organization, user=user, lines=lines, destination=destination, notes=notes,
                           draft=draft, details_for=details_for, mass_upload_id=mass_upload_id)


def _transfer_write(*, organization: Organization, user: User, lines: list[TransferLine],
                    destination: Destination, notes: str, draft: Transfer | None,
                    details_for: Callable[[Transfer], Model] | None = None,
                    mass_upload_id: int | None = None) -> Transfer:
    """transfer_write's work, in the transaction (or savepoint) its caller opened."""
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX_LENGTH:
        raise TransferRefused(f"Notes are limited to {NOTES_MAX_LENGTH} characters.", field="notes")
    _lines_check(lines)
    # The role is checked with the batches' lock, in the same statement (see batches_lock); a draft
    # is locked in the same round trip, before the batches.
    now = timezone.now()
    ordered = sorted(lines, key=lambda line: line.batch_id)
    transfer, account_state, details = None, None, None
    moved_ids, remainders = {}, {}
    for offset in range(0, len(ordered), TRANSFER_CHUNK):
        chunk = ordered[offset:offset + TRANSFER_CHUNK]
        first_chunk = transfer is None  # it draws a new transfer's id and locks the destination account
        locked, destination_accounts, new_id = _transfer_lock(chunk, organization=organization, user=user,
                                                              destination=destination, draft=draft,
                                                              first_chunk=first_chunk)
        if first_chunk and destination.account is not None:
            account_state = destination_accounts.get(destination.account.pk, NO_ACCOUNT)
        takes = _transfer_check(chunk, locked, organization=organization, destination=destination, called=lines,
                                account_state=account_state, first_chunk=first_chunk)
        if first_chunk:
            transfer = _transfer_begin(organization=organization, user=user, destination=destination, notes=notes,
                                       draft=draft, new_id=new_id, now=now, mass_upload_id=mass_upload_id)
            details = details_for(transfer) if details_for is not None else None
        moves = _transfer_move(takes, organization=organization, user=user, destination=destination)
        for moved, (source, _) in moves.batches:  # ids only: a mass transfer has 100,000 of them
            moved_ids[source.pk] = moved.pk
            remainders[source.pk] = source.remainder.pk if hasattr(source, "remainder") else None
        _transfer_record(transfer, moves, organization=organization, user=user, destination=destination, notes=notes,
                         details=details, first_chunk=first_chunk)

    transfer.moved, transfer.remainders = moved_ids, remainders
    return transfer


def _transfer_lock(chunk: list[TransferLine], *, organization: Organization, user: User, destination: Destination,
                   draft: Transfer | None, first_chunk: bool) -> tuple[dict, dict[int, dict], int | None]:
    """Lock, in one round trip: the chunk's batches (with the user's role), and with the first chunk
    the draft before them, a new transfer's id and the destination account after them; a draft
    confirmed already is refused. Returns the batches locked, the destination account's state and
    the new id (None: none drawn)."""
    trip = RoundTrip()  # the chunk's locks in one round trip: the draft's, the batches', the destination's
    # The draft, locked first: a second confirm of it waits there, then is refused.
    draft_status = (trip.add(DRAFT_LOCK_SQL, [draft.pk, organization.pk])
                    if first_chunk and draft is not None else None)
    batches = batches_lock_in(trip, (line.batch_id for line in chunk), user_id=user.pk)
    new_id = trip.add(TRANSFER_ID_SQL) if first_chunk and draft is None else None
    destination_accounts = accounts_lock_for_share_in(
        trip, [destination.account.pk] if first_chunk and destination.account else [])
    trip.send()
    if draft_status is not None and draft_status.value != [(Transfer.Status.DRAFT,)]:
        raise DraftAlreadySubmitted()
    return batches.value, destination_accounts.value, new_id.value[0][0] if new_id is not None else None


def _transfer_check(chunk: list[TransferLine], locked, *, organization: Organization, destination: Destination,
                    called: list[TransferLine], account_state: dict | None,
                    first_chunk: bool) -> list[tuple[CertificateBatch, int]]:
    """Check, under the lock: each line (TransferLine.problems), the sender (not suspended, not overdue
    for the annual generator review: certificates.reviews), and the destination
    (Destination.problems, with the states locked; after the first chunk only what depends on the
    chunk's batches). `called`: the lines as the call gave them, whose index names a refused line.
    Returns the (batch, quantity) to move."""
    takes = []
    for line in chunk:
        batch = locked.get(line.batch_id)
        if batch is not None and batch.holder.organization_id == organization.pk and not batch.user_may_move:
            raise role_refused(organization)
        if problems := line.problems(batch, organization):
            index = called.index(line)
            changed = "batch" in problems and batch is not None and batch.holder.organization_id == organization.pk \
                and batch.status != BatchStatus.ACTIVE  # the selection must be made again
            raise (BatchChanged if changed else TransferRefused)(
                problems={line_field(index, field): message for field, message in problems.items()})
        takes.append((batch, line.quantity))
    if any(batch.holder.organization_status != Organization.Status.ACTIVE for batch, _ in takes):
        raise TransferRefused(f"{organization.name} is suspended and cannot send certificates.")
    if first_chunk and (overdue := organization_refusal(organization, review_today())):  # the annual generator review
        raise TransferRefused(overdue)
    if first_chunk or destination.kind == Kind.INTERNAL:  # an internal transfer's account holds none of the batches
        recipient = destination.organization
        recipient_status = organization_lock_for_share(recipient.pk) \
            if first_chunk and recipient is not None and recipient.pk != organization.pk else None
        if problems := destination.problems(organization, batches=[batch for batch, _ in takes],
                                            account_state=account_state, recipient_status=recipient_status):
            account = destination.account if destination.kind == Kind.INTERNAL else None
            if account is not None and (held := batches_already_in(account.pk, [batch for batch, _ in takes])):
                raise AlreadyInAccount(held[0], account)  # its kind, for those that catch it
            raise TransferRefused(problems=problems)
    return takes


def _transfer_begin(*, organization: Organization, user: User, destination: Destination, notes: str,
                    draft: Transfer | None, new_id: int | None,
                    now, mass_upload_id: int | None = None) -> Transfer:
    """The transfer's row, with the first chunk: the draft becomes it (compare-and-swap on its
    status), or a new one under the id drawn with the lock, written by _transfer_record with the
    ledger events, in their statement."""
    completes_at_once = destination.kind in (Kind.INTERNAL, Kind.RETIREMENT)
    fields = dict(
        kind=destination.kind,
        status=Transfer.Status.COMPLETE if completes_at_once else Transfer.Status.PENDING,
        organization=organization, destination_account=destination.account,
        recipient_organization=destination.organization, tracking_system=destination.tracking_system,
        recipient_name=destination.recipient_name.strip(),
        recipient_account_ref=destination.recipient_account_ref.strip(), notes=notes,
        submitted_at=now, decided_at=now if completes_at_once else None, mass_upload_id=mass_upload_id,
    )
    if draft is not None:
        if Transfer.objects.filter(pk=draft.pk, status=Transfer.Status.DRAFT).update(**fields) != 1:
            raise DraftAlreadySubmitted()
        transfer = draft  # as the database now holds it: the locked draft, with `fields` set
        for name, value in fields.items():
            setattr(transfer, name, value)
    else:  # written below, with the ledger events, in their statement
        transfer = Transfer(pk=new_id, created_by=user, created_at=now, **fields)
    return transfer


def _transfer_move(takes: list[tuple[CertificateBatch, int]], *, organization: Organization, user: User,
                   destination: Destination) -> Moves:
    """Move: each source account's batches in one batches_take, to the destination account
    (internal, retirement) or frozen, pending, where they are (Moves)."""
    sources = [batch.snapshot() for batch, _ in takes]
    came_from = {batch.pk: batch.account_id for batch, _ in takes}  # a whole batch's moves with it
    if destination.kind == Kind.INTERNAL:
        target_account, target_status = destination.account.pk, BatchStatus.ACTIVE
    elif destination.kind == Kind.RETIREMENT:
        target_account, target_status = destination.account.pk, BatchStatus.RETIRED
    else:  # stays in the sender's account, frozen, until the other party acts
        target_account, target_status = None, BatchStatus.PENDING
    moves = Moves(batches=[], sources=sources, came_from=came_from, split_rows=[], split_events=[])
    for account_id in sorted({batch.account_id for batch, _ in takes}):  # "stays where it was" exact
        group = [(batch, quantity) for batch, quantity in takes if batch.account_id == account_id]
        taken = batches_take(takes=group, account_id=target_account or account_id, status=target_status,
                             actor=user, organization=organization)
        moves.batches.extend(zip(taken.moved, group, strict=True))
        moves.split_rows.extend(taken.children)
        moves.split_events.extend(taken.events)
    return moves


def _transfer_record(transfer: Transfer, moves: Moves, *, organization: Organization, user: User,
                     destination: Destination, notes: str, details: Model | None, first_chunk: bool) -> None:
    """Record: the chunk's split batches and events (batches_take's), items and initiating ledger
    event (the batches before and after; a transfer of more than one chunk has one such event per
    chunk, all in this transaction), with the first chunk the transfer's row, the caller's row of
    details (a retirement's) and its domain event, in one statement."""
    items = [TransferItem(transfer_id=transfer.pk, batch_id=moved.pk, source_batch_id=source.pk,
                          source_account_id=moves.came_from[source.pk]) for moved, (source, _) in moves.batches]
    initiating = LedgerEvent.Kind.RETIREMENT if destination.kind == Kind.RETIREMENT \
        else LedgerEvent.Kind.TRANSFER_INITIATED
    after = {"status": transfer.status, "batches": [moved.snapshot() for moved, _ in moves.batches]}
    if details is not None:
        after[details.ledger_key] = details.snapshot()
    events = [*moves.split_events,
              ledger_event(kind=initiating, actor=user, organization=organization, transfer=transfer,
                           account=destination.account, before={"batches": moves.sources}, after=after, note=notes)]
    owed = [_event_owed(transfer, initiating)] if first_chunk else []
    details_rows = [details] if details is not None and first_chunk else []
    ledger_write(events, with_rows=[moves.split_rows, [transfer] if transfer._state.adding else [], items,
                                    details_rows, owed])


def _lock_pending(transfer_id: int, *, by: Organization | None = None, decision: str = "", **scope) -> Transfer:
    """The transfer, locked, if it is pending. With `by`, one that `by` sent or was sent, and
    `decision` one `by` may take on it (transfer_decision_refused, the transfer page's rule too)."""
    transfer = Transfer.objects.select_for_update().filter(pk=transfer_id, **scope)
    if by is not None:
        transfer = transfer.filter(Q(organization=by) | Q(recipient_organization=by))
    transfer = transfer.first()
    if transfer is None:
        raise TransferRefused("There is no such transfer.")
    if by is not None and (refusal := transfer_decision_refused(transfer, organization_id=by.pk, decision=decision)):
        raise refusal
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
    """Rejected, withdrawn, expired: every batch goes back, active, to the account it came from. A
    rejected import's have nowhere here to go back to: they are voided where they wait (its stand-in's
    account), each with its batch_voided event, for registry staff to return them to the source."""
    batches = _pending_batches(transfer)
    before = [batch.snapshot() for batch in batches]
    voided = transfer.kind == Kind.IMPORT
    batches_set_state(batches=batches, from_status=BatchStatus.PENDING,
                      to_status=BatchStatus.VOIDED if voided else BatchStatus.ACTIVE)
    _close(transfer, status=status, user=user, note=note)
    voids = [ledger_event(
        kind=LedgerEvent.Kind.BATCH_VOIDED, actor=user, organization=transfer.organization,
        certificate=batch.certificate, batch=batch, account=Account(pk=batch.account_id), before=snapshot,
        after=batch.snapshot(), note=f"Import {transfer.pk} rejected; to return to {transfer.tracking_system.name}.",
    ) for batch, snapshot in zip(batches, before, strict=True)] if voided else []
    ledger_write([ledger_event(
        kind=kind, actor=user, organization=transfer.organization, transfer=transfer,
        before={"status": Transfer.Status.PENDING, "batches": before},
        after={"status": status, "batches": [batch.snapshot() for batch in batches]}, note=note,
    ), *voids], with_rows=[[_event_owed(transfer, kind)]])


def import_transfer_rows(*, stand_in: Organization, recipient: Organization, tracking_system, user: User,
                         batch: CertificateBatch, notes: str = "", transfer: Transfer | None = None
                         ) -> list[list[Model]]:
    """An import's transfer (imports.services.import_record), as rows for the caller to write with the
    imported certificate (certificates.services.certificates_import_write): a pending transfer of kind
    import from the tracking system's `stand_in` organization to `recipient`, its one item (the pending
    `batch`), and its import.recorded domain event. From then on it is decided as a transfer to another
    organization is (transfer_accept, transfer_reject: transfer_decision_refused), and never expires.
    With `transfer` (written earlier in the caller's transaction), the batch joins it: its item only (an
    export another registry sent, of several batches, is one import for the recipient to decide)."""
    def item(transfer_id: int) -> TransferItem:
        return TransferItem(transfer_id=transfer_id, batch_id=batch.pk, source_batch_id=batch.pk,
                            source_account_id=batch.account_id)

    if transfer is not None:
        return [[item(transfer.pk)]]
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(TRANSFER_ID_SQL)
        (transfer_id,) = cursor.fetchone()
    now = timezone.now()
    transfer = Transfer(pk=transfer_id, kind=Kind.IMPORT, status=Transfer.Status.PENDING, organization=stand_in,
                        created_by=user, recipient_organization=recipient, tracking_system=tracking_system,
                        notes=notes, created_at=now, submitted_at=now)
    return [[transfer], [item(transfer_id)], [_event_owed(transfer, LedgerEvent.Kind.IMPORT_RECORDED)]]


@transaction.atomic  # joins the API's exactly-once request (api/idempotency.py)
def transfer_accept(*, transfer: Transfer, user: User, organization: Organization, account: Account) -> Transfer:
    """The recipient takes a pending transfer into one of its open active accounts."""
    role_require(user=user, organization=organization)
    transfer = _lock_pending(transfer.pk, by=organization, decision="accept")
    batches = _pending_batches(transfer)
    # Where an internal transfer may go, the accepted certificates may: Destination.problems, with
    # the account as locked.
    state = accounts_lock_for_share([account.pk]).get(account.pk, NO_ACCOUNT)
    if problems := Destination.internal(account).problems(organization, account_state=state):
        raise TransferRefused(problems["destination.account"], field="account")
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
    )], with_rows=[[_event_owed(transfer, LedgerEvent.Kind.TRANSFER_ACCEPTED)]])
    return transfer


@transaction.atomic  # joins the API's exactly-once request (api/idempotency.py)
def transfer_reject(*, transfer: Transfer, user: User, organization: Organization, note: str = "") -> Transfer:
    """The recipient refuses a pending transfer; the certificates return to the sender."""
    role_require(user=user, organization=organization)
    transfer = _lock_pending(transfer.pk, by=organization, decision="reject")
    _return_batches(transfer=transfer, user=user, status=Transfer.Status.REJECTED,
                    kind=LedgerEvent.Kind.TRANSFER_REJECTED, note=note)
    return transfer


@transaction.atomic  # joins the API's exactly-once request (api/idempotency.py)
def transfer_withdraw(*, transfer: Transfer, user: User, organization: Organization) -> Transfer:
    """The sender takes back a transfer to another organization while it is still pending."""
    role_require(user=user, organization=organization)
    transfer = _lock_pending(transfer.pk, by=organization, decision="withdraw")
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
    return _export_confirm(transfer.pk, user=user, note=note)


@transaction.atomic(durable=True)
def export_reject(*, transfer: Transfer, user: User, note: str = "") -> Transfer:
    """Registry staff: the receiving tracking system refused the export; the certificates return."""
    staff_require(user=user)
    return _export_reject(transfer.pk, user=user, note=note)


@transaction.atomic  # joins the caller's: imports.services.export_answer_receive records the answer with it
def export_answered(*, transfer: Transfer, tracking_system, accepted: bool, note: str = "") -> Transfer:
    """The tracking system an export went to, running this project too, answered it itself (a signed
    message imports.messages verified): confirmed or returned as registry staff would, with no person
    behind it; only an export pending to that tracking system."""
    closing = _export_confirm if accepted else _export_reject
    return closing(transfer.pk, user=None, note=note, tracking_system=tracking_system)


def _export_confirm(transfer_id: int, *, user: User | None, note: str, **scope) -> Transfer:
    transfer = _lock_pending(transfer_id, kind=Kind.EXPORT, **scope)
    batches = _pending_batches(transfer)
    before = [batch.snapshot() for batch in batches]
    batches_set_state(batches=batches, from_status=BatchStatus.PENDING, to_status=BatchStatus.EXPORTED)
    _close(transfer, status=Transfer.Status.COMPLETE, user=user, note=note)
    ledger_write([ledger_event(
        kind=LedgerEvent.Kind.EXPORT_CONFIRMED, actor=user, organization=transfer.organization,
        transfer=transfer, before={"status": Transfer.Status.PENDING, "batches": before},
        after={"status": Transfer.Status.COMPLETE, "batches": [b.snapshot() for b in batches]}, note=note,
    )], with_rows=[[_event_owed(transfer, LedgerEvent.Kind.EXPORT_CONFIRMED)]])
    return transfer


def _export_reject(transfer_id: int, *, user: User | None, note: str, **scope) -> Transfer:
    transfer = _lock_pending(transfer_id, kind=Kind.EXPORT, **scope)
    _return_batches(transfer=transfer, user=user, status=Transfer.Status.REJECTED,
                    kind=LedgerEvent.Kind.EXPORT_REJECTED, note=note)
    return transfer


# The domain event of each step, by the kind of its ledger event.
EVENT_KINDS = {
    LedgerEvent.Kind.TRANSFER_INITIATED: Event.Kind.TRANSFER_SUBMITTED,
    LedgerEvent.Kind.TRANSFER_ACCEPTED: Event.Kind.TRANSFER_ACCEPTED,
    LedgerEvent.Kind.TRANSFER_REJECTED: Event.Kind.TRANSFER_REJECTED,
    LedgerEvent.Kind.TRANSFER_WITHDRAWN: Event.Kind.TRANSFER_WITHDRAWN,
    LedgerEvent.Kind.TRANSFER_EXPIRED: Event.Kind.TRANSFER_EXPIRED,
    LedgerEvent.Kind.EXPORT_CONFIRMED: Event.Kind.EXPORT_CONFIRMED,
    LedgerEvent.Kind.EXPORT_REJECTED: Event.Kind.EXPORT_REJECTED,
    LedgerEvent.Kind.RETIREMENT: Event.Kind.RETIREMENT_MADE,
}


# An import's steps are events of their own kinds (the import was recorded by imports.services).
IMPORT_EVENT_KINDS = {
    LedgerEvent.Kind.IMPORT_RECORDED: Event.Kind.IMPORT_RECORDED,
    LedgerEvent.Kind.TRANSFER_ACCEPTED: Event.Kind.IMPORT_ACCEPTED,
    LedgerEvent.Kind.TRANSFER_REJECTED: Event.Kind.IMPORT_REJECTED,
}


def _event_owed(transfer: Transfer, ledger_kind: str) -> Event:
    """The step's domain event, to write with its ledger events (one statement); its consumers
    (emails, webhooks) take it once the change commits."""
    kinds = IMPORT_EVENT_KINDS if transfer.kind == Kind.IMPORT else EVENT_KINDS
    event = event_new(kind=kinds[ledger_kind], organization_id=transfer.organization_id,
                      other_organization_id=transfer.recipient_organization_id, subject_id=transfer.pk,
                      data={"transfer_kind": transfer.kind, "mass_upload_id": transfer.mass_upload_id})
    events_owed([event])
    return event
