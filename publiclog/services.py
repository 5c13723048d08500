"""Every write of the public log: the publiclog consumer of the domain events appends each
retirement made as a leaf (in the transaction that consumes its claim, so exactly once), beat
signs a checkpoint of the log as it grows and asks the witnesses to cosign it; and, as a witness of
other logs, this registry cosigns their checkpoints.

The leaves' order is the order the log takes them: a transaction-level advisory lock (LOG_LOCK)
serialises the appends, so two workers consuming at once never give two leaves one index, and the
unique retirement of a leaf refuses a second leaf for it."""

import base64
import binascii
import datetime
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from events.models import Event
from retirements.models import Retirement
from retirements.services import retirement_records_freeze
from retirements.statements import record_digest
from webhooks import http
from webhooks.addresses import UrlRefused, url_target
from webhooks.http import DeliveryFailed

from . import merkle, tree
from .keys import origin, signing_key, witness_key
from .models import Checkpoint, Cosignature, LogLeaf, LogNode, WitnessedLog
from .notes import (
    COSIGNATURE_V1,
    CheckpointBody,
    NoteError,
    checkpoint_parsed,
    cosignature_line,
    cosignatures_verified,
    note_signed,
    note_text_verified,
    verifier_key_parsed,
)

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
    # Their records as the log takes them, frozen (one query for all their batches, one to freeze)
    records = retirement_records_freeze(list(retirements.values()))
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
        _rows_insert(leaves, nodes, now=now)
    return leaves


def _rows_insert(leaves: list[LogLeaf], nodes: list[LogNode], *, now: datetime.datetime) -> None:
    """The leaves and nodes in one statement each, from arrays: a third of the consumer's time went to
    bulk_create's building of its SQL (bench/publiclog.py, --profile)."""
    with connection.cursor() as cursor:
        cursor.execute(f"""INSERT INTO {LogLeaf._meta.db_table} (index, retirement_id, entry, hash, appended_at)
                           SELECT index, retirement_id, entry, hash, %s
                           FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[], %s::bytea[])
                                AS leaf(index, retirement_id, entry, hash)""",
                       [now, [leaf.index for leaf in leaves], [leaf.retirement_id for leaf in leaves],
                        [leaf.entry for leaf in leaves], [leaf.hash for leaf in leaves]])
        if nodes:
            cursor.execute(f"""INSERT INTO {LogNode._meta.db_table} (level, index, hash)
                               SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::bytea[])""",
                           [[node.level for node in nodes], [node.index for node in nodes],
                            [node.hash for node in nodes]])


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


# Witnesses (C2SP tlog-witness, tlog-cosignature) --------------------------------------------------

ADD_CHECKPOINT_MAX_PROOF = 63  # lines, as C2SP tlog-witness allows


class WitnessRefused(Exception):
    """An add-checkpoint request this registry, as a witness, does not cosign: the HTTP status C2SP
    tlog-witness gives the reason, and a plain message (for a 409, the size it last cosigned)."""

    def __init__(self, status: int, message: str, *, size: int | None = None):
        super().__init__(message)
        self.status, self.size = status, size


def witnessed_log_keys() -> dict[str, bytes]:
    """The logs this registry witnesses (PUBLICLOG_WITNESSED_LOGS): origin -> the log's public key."""
    return dict(verifier_key_parsed(key) for key in settings.PUBLICLOG_WITNESSED_LOGS)


def _add_checkpoint_parsed(body: str) -> tuple[int, list[bytes], str]:
    head, separator, note = body.partition("\n\n")
    lines = head.split("\n")
    if not separator or not re.fullmatch(r"old (0|[1-9][0-9]{0,18})", lines[0]):
        raise WitnessRefused(400, "The request is an 'old <size>' line, the consistency proof's hashes one a line, "
                                  "an empty line, then the checkpoint's signed note.")
    if len(lines) - 1 > ADD_CHECKPOINT_MAX_PROOF:
        raise WitnessRefused(400, f"A consistency proof has at most {ADD_CHECKPOINT_MAX_PROOF} hashes.")
    try:
        proof = [base64.b64decode(line, validate=True) for line in lines[1:]]
    except binascii.Error as error:
        raise WitnessRefused(400, "Each consistency proof line is one hash in base64.") from error
    return int(lines[0].removeprefix("old ")), proof, note


def checkpoint_witness(*, body: str, now: datetime.datetime | None = None) -> str:
    """As a witness of another log (C2SP tlog-witness, add-checkpoint): cosign its checkpoint if its
    log's key signed it and a consistency proof joins it to the last checkpoint of that log this
    registry cosigned. The check and the new state are one transaction, under that log's row lock, so
    two requests at once never roll the state back. Returns the cosignature line; WitnessRefused."""
    old_size, proof, note = _add_checkpoint_parsed(body)
    checkpoint_origin = note.split("\n", 1)[0]
    public_key = witnessed_log_keys().get(checkpoint_origin)
    if public_key is None:
        raise WitnessRefused(404, f"This witness does not witness the log {checkpoint_origin!r}.")
    try:
        text = note_text_verified(note, name=checkpoint_origin, public_key=public_key)
    except NoteError as error:
        raise WitnessRefused(403, f"The checkpoint is not signed by the log's key: {error}") from error
    try:
        body_parsed = checkpoint_parsed(text)
    except NoteError as error:
        raise WitnessRefused(400, str(error)) from error
    if old_size > body_parsed.size:
        raise WitnessRefused(400, f"old ({old_size}) is larger than the checkpoint's size ({body_parsed.size}).")
    moment = now or timezone.now()
    with transaction.atomic(durable=True):
        WitnessedLog.objects.get_or_create(origin=checkpoint_origin)
        state = WitnessedLog.objects.select_for_update().get(origin=checkpoint_origin)
        if old_size != state.size:
            raise WitnessRefused(409, f"{state.size}\n", size=state.size)
        if old_size == body_parsed.size:
            if state.root_hash is not None and bytes(state.root_hash) != body_parsed.root_hash:
                raise WitnessRefused(409, f"{state.size}\n", size=state.size)
        elif old_size == 0:
            if proof:
                raise WitnessRefused(422, "From size 0 the consistency proof is empty.")
        elif not merkle.consistency_verified(old_size=old_size, new_size=body_parsed.size, proof=proof,
                                             old_root=bytes(state.root_hash), new_root=body_parsed.root_hash):
            raise WitnessRefused(422, f"The consistency proof does not join the checkpoint of {old_size} leaves "
                                      f"this witness cosigned to this one of {body_parsed.size}.")
        state.size, state.root_hash, state.note, state.cosigned_at = (
            body_parsed.size, body_parsed.root_hash, note, moment)
        state.save(update_fields=["size", "root_hash", "note", "cosigned_at"])
    return cosignature_line(text, name=settings.PUBLICLOG_WITNESS_NAME, private_key=witness_key(),
                            timestamp=int(moment.timestamp()))


@dataclass(frozen=True)
class Witness:
    name: str
    public_key: bytes
    url: str


def witnesses() -> list[Witness]:
    """The witnesses this log asks (PUBLICLOG_WITNESSES: "<verifier key> <add-checkpoint URL>" each)."""
    found = []
    for item in settings.PUBLICLOG_WITNESSES:
        key, _, url = item.partition(" ")
        name, public_key = verifier_key_parsed(key, COSIGNATURE_V1)
        found.append(Witness(name=name, public_key=public_key, url=url.strip()))
    return found


def checkpoint_cosignatures_ask() -> dict[str, str]:
    """Ask each configured witness to cosign the latest checkpoint (C2SP tlog-witness: the checkpoint
    with a consistency proof from the last one it cosigned), verify each answer against the witness's
    key and keep the cosignatures. Outside any transaction: the requests go out over the network.
    Returns, by witness, what happened."""
    latest = Checkpoint.objects.order_by("-size").first()
    if latest is None:
        return {}
    outcomes = {}
    for witness in witnesses():
        if latest.cosignatures.filter(witness=witness.name).exists():
            outcomes[witness.name] = "already cosigned"
            continue
        try:
            outcomes[witness.name] = _cosignature_ask(latest, witness)
        except (UrlRefused, DeliveryFailed, NoteError) as error:
            outcomes[witness.name] = f"not cosigned: {error}"
    return outcomes


def _cosignature_ask(checkpoint: Checkpoint, witness: Witness) -> str:
    old_size = Cosignature.objects.filter(witness=witness.name).aggregate(size=Max("checkpoint__size"))["size"] or 0
    for _ in range(2):  # a second time from the size a 409 names (the witness knows better than we recorded)
        proof = tree.proof(merkle.consistency_ranges(old_size, checkpoint.size)) if old_size <= checkpoint.size else []
        request = f"old {old_size}\n" + "".join(f"{base64.b64encode(node).decode()}\n" for node in proof)
        answer = http.post(url_target(witness.url), body=(request + "\n" + checkpoint.note).encode(),
                           headers={"Content-Type": "text/plain; charset=utf-8"},
                           seconds=settings.WEBHOOKS_ATTEMPT_SECONDS)
        said = answer.body.decode(errors="replace")
        if answer.status == 409 and said.strip().isdecimal() and int(said) != old_size:
            old_size = int(said)
            continue
        break
    if answer.status != 200:
        return f"not cosigned: the witness answered {answer.status}: {said.strip()[:200]}"
    text = checkpoint.note.rpartition("\n\n")[0] + "\n"
    cosigned = cosignatures_verified(text, said, name=witness.name, public_key=witness.public_key)
    if not cosigned:
        return "not cosigned: the answer carries no cosignature of the witness's key"
    line, timestamp = cosigned[0]
    with transaction.atomic(durable=True):
        Cosignature.objects.get_or_create(checkpoint=checkpoint, witness=witness.name, defaults={
            "line": line, "cosigned_at": datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)})
    return "cosigned"
