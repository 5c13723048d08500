"""Every write of the public log: the publiclog consumer of the domain events appends each
retirement made as a leaf (in the transaction that consumes its claim, so exactly once), and beat
signs a checkpoint of the log as it grows.

The leaves' order is the order the log takes them: a transaction-level advisory lock (LOG_LOCK)
serialises the appends, so two workers consuming at once never give two leaves one index, and the
unique retirement of a leaf refuses a second leaf for it."""

import datetime

from django.db import connection, transaction
from django.utils import timezone

from events.models import Event
from retirements.models import Retirement
from retirements.statements import record_digest, retirement_records

from . import merkle, tree
from .keys import origin, signing_key
from .models import Checkpoint, LogLeaf, LogNode
from .notes import CheckpointBody, note_signed

CONSUMER = "publiclog"
KINDS = frozenset({Event.Kind.RETIREMENT_MADE})
LOG_LOCK = 0x7075626C6F67  # "publog": the one lock every append and checkpoint takes


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOG_LOCK])


def log_size() -> int:
    last = LogLeaf.objects.order_by("-index").values_list("index", flat=True).first()
    return 0 if last is None else last + 1


def log_append(events: list[Event]) -> list[LogLeaf]:
    """The consumer's handler: append the retirement each event records as the log's next leaf, in
    the events' order, under the log's lock, in the caller's transaction. A retirement already in
    the log is not appended again. Returns the new leaves."""
    transfer_ids = list(dict.fromkeys(event.subject_id for event in events if event.kind in KINDS))
    if not transfer_ids:
        return []
    retirements = Retirement.objects.select_related("transfer__organization", "option").in_bulk(transfer_ids)
    records = retirement_records(list(retirements.values()))  # one query for all their batches
    entries = [(transfer_id, bytes.fromhex(record_digest(records[transfer_id])))
               for transfer_id in transfer_ids if transfer_id in retirements]
    return leaves_append(entries)


def leaves_append(entries: list[tuple[int, bytes]]) -> list[LogLeaf]:
    """Append (retirement id, entry) pairs as the log's next leaves, under the log's lock, skipping
    a retirement already in it, with the stored nodes they complete. In the caller's transaction."""
    _lock()
    with connection.cursor() as cursor:  # an array, not IN (...): a chunk may be 100,000 (bench/publiclog.py)
        cursor.execute(f"SELECT retirement_id FROM {LogLeaf._meta.db_table} WHERE retirement_id = ANY(%s)",
                       [[retirement_id for retirement_id, _ in entries]])
        logged = {retirement_id for (retirement_id,) in cursor.fetchall()}
    size = log_size()
    now = timezone.now()
    leaves = []
    for retirement_id, entry in entries:
        if retirement_id in logged:
            continue
        logged.add(retirement_id)
        leaves.append(LogLeaf(index=size + len(leaves), retirement_id=retirement_id, entry=entry,
                              hash=merkle.leaf_hash(entry), appended_at=now))
    if leaves:
        nodes = tree.nodes_completed(old_size=size, new_leaves=[leaf.hash for leaf in leaves])
        LogLeaf.objects.bulk_create(leaves, batch_size=5000)
        LogNode.objects.bulk_create(nodes, batch_size=5000)
    return leaves


def log_append_one(event: Event) -> None:
    log_append([event])


def checkpoint_sign(*, now: datetime.datetime | None = None) -> Checkpoint | None:
    """Sign a checkpoint of the log as it is, if it grew since the last one (or has none yet): the
    C2SP checkpoint of its origin, size and root hash, as a signed note. Returns the new checkpoint,
    or None when the latest already has this size. Old checkpoints are kept."""
    with transaction.atomic(durable=True):
        _lock()  # the size and root of one state of the log
        size = log_size()
        latest = Checkpoint.objects.order_by("-size").first()
        if latest is not None and latest.size >= size:
            return None
        root_hash = tree.tree_root(size)
        text = CheckpointBody(origin=origin(), size=size, root_hash=root_hash).text()
        note = note_signed(text, name=origin(), private_key=signing_key())
        return Checkpoint.objects.create(size=size, root_hash=root_hash, note=note, signed_at=now or timezone.now())
