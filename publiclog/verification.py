"""`manage.py verify_log`: the log re-derived from its leaves. Every leaf's hash is its entry's, the
indexes run from 0 without a gap, every stored node is the hash of its leaves, every checkpoint's
root is the root of its size and its signature is the log key's (and each cosignature its configured
witness's), and every retirement whose event
the log's consumer has passed is a leaf. `verify_ledger` runs it too (publiclog/apps.py registers it).
One pass over the leaves, in index order (a stack of perfect subtrees, as the log appends).

Checkpoints kept elsewhere (an auditor's, a witness's: `seen`) are checked too, so that a fork is
found even when the registry no longer holds the checkpoint it signed for the other branch."""

from collections import defaultdict
from collections.abc import Sequence

from django.db.models import Exists, OuterRef, Q

from events.models import Claim, ConsumerProgress, Event
from retirements.models import Retirement

from . import merkle
from .keys import origin, public_key
from .models import NODE_STRIDE, Checkpoint, Cosignature, LogLeaf, LogNode
from .notes import NoteError, checkpoint_parsed, cosignatures_verified, note_text_verified
from .services import CONSUMER, KINDS, witnesses

CHUNK = 10_000


def log_breaches(*, limit: int = 100, seen: Sequence[str] = ()) -> list[str]:
    """Every breach of the log's rules, one line each (at most `limit`); empty when it is sound.
    `seen`: signed notes of checkpoints kept outside the registry, each checked as its own are."""
    breaches: list[str] = []
    checkpoints = {checkpoint.size: checkpoint for checkpoint in Checkpoint.objects.all()}
    key = public_key()
    roots: dict[int, list[tuple[str, bytes]]] = defaultdict(list)  # size -> (whose, root) to compare
    for checkpoint in checkpoints.values():
        roots[checkpoint.size].append((f"checkpoint of {checkpoint.size} leaves", bytes(checkpoint.root_hash)))
    for number, note in enumerate(seen, start=1):
        try:
            body = checkpoint_parsed(note_text_verified(note, name=origin(), public_key=key))
        except NoteError as error:
            breaches.append(f"checkpoint seen elsewhere (#{number}): {error}")
            continue
        roots[body.size].append((f"checkpoint of {body.size} leaves seen elsewhere (#{number})", body.root_hash))
    nodes = dict(((level, index), bytes(hashed)) for level, index, hashed
                 in LogNode.objects.values_list("level", "index", "hash").iterator(chunk_size=CHUNK))
    seen_nodes = 0
    stack: list[tuple[int, bytes]] = []  # (level, hash) of the perfect subtrees so far, largest first
    size = 0
    breaches += [f"{whose}: its root is not the empty tree's" for whose, root_hash in roots[0]
                 if root_hash != merkle.EMPTY_ROOT]
    for index, entry, hashed in LogLeaf.objects.order_by("index").values_list("index", "entry", "hash").iterator(
            chunk_size=CHUNK):
        entry, hashed = bytes(entry), bytes(hashed)
        if index != size:
            breaches.append(f"leaf {size}: missing (the next leaf is {index})")
            break
        if merkle.leaf_hash(entry) != hashed:
            breaches.append(f"leaf {index}: its hash is not SHA-256(0x00 || entry)")
        level, current = 0, merkle.leaf_hash(entry)
        while stack and stack[-1][0] == level:
            current = merkle.node_hash(stack.pop()[1], current)
            level += 1
            if level % NODE_STRIDE == 0:
                node = (level, (size + 1 - (1 << level)) >> level)
                seen_nodes += 1
                if nodes.get(node) != current:
                    breaches.append(f"node {node[0]}/{node[1]}: stored hash differs from its leaves'")
        stack.append((level, current))
        size += 1
        if size in roots:
            root_hash = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                root_hash = merkle.node_hash(left, root_hash)
            breaches += [f"{whose}: its root is not the leaves' root" for whose, signed_root in roots[size]
                         if signed_root != root_hash]
        if len(breaches) >= limit:
            return breaches
    if seen_nodes != len(nodes):
        breaches.append(f"{len(nodes) - seen_nodes} stored nodes no complete subtree of the leaves accounts for")
    breaches += [f"{whose}: the log has only {size} leaves" for signed_size, signed in roots.items()
                 if signed_size > size for whose, _ in signed]
    for checkpoint in checkpoints.values():
        try:
            body = checkpoint_parsed(note_text_verified(checkpoint.note, name=origin(), public_key=key))
        except NoteError as error:
            breaches.append(f"checkpoint of {checkpoint.size} leaves: {error}")
            continue
        if (body.size, body.root_hash) != (checkpoint.size, bytes(checkpoint.root_hash)):
            breaches.append(f"checkpoint of {checkpoint.size} leaves: its note signs another size or root")
    witness_keys = {witness.name: witness.public_key for witness in witnesses()}
    for cosignature in Cosignature.objects.select_related("checkpoint").filter(witness__in=witness_keys):
        text = cosignature.checkpoint.note.rpartition("\n\n")[0] + "\n"
        try:
            valid = cosignatures_verified(text, cosignature.line, name=cosignature.witness,
                                          public_key=witness_keys[cosignature.witness])
        except NoteError:
            valid = []
        if not valid:
            breaches.append(f"checkpoint of {cosignature.checkpoint.size} leaves: the cosignature of "
                            f"{cosignature.witness} is not that witness's")
    skipped = _not_logged().exclude(pk__in=_not_logged().filter(_owed())).values_list("reference", flat=True)
    breaches += [f"retirement {reference}: the log's consumer passed its event, yet it is no leaf"
                 for reference in skipped[:limit]]
    return breaches[:limit]


def _not_logged():
    return Retirement.objects.filter(~Exists(LogLeaf.objects.filter(retirement=OuterRef("pk"))))


def _owed() -> Q:
    """A retirement whose event the log's consumer still owes: claimed and not yet handled (or set
    aside), or not yet claimed (after its progress, in the (txid, id) order it claims in)."""
    events = Event.objects.filter(kind__in=KINDS, subject_id=OuterRef("pk"))
    progress = ConsumerProgress.objects.filter(consumer=CONSUMER).first()
    if progress is not None:
        events = events.extra(where=["(txid, id) > (%s::text::xid8, %s)"],  # as events_claim orders them
                              params=[progress.txid, progress.event_id])
    return Q(Exists(Claim.objects.filter(consumer=CONSUMER, event__kind__in=KINDS, event__subject_id=OuterRef("pk")))
             ) | Q(Exists(events))


def log_behind() -> int:
    """How many retirements the log has not taken yet because its consumer has not come to them:
    not a breach, but what verify_log reports beside them."""
    return _not_logged().filter(_owed()).count()
