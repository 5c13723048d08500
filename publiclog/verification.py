"""`manage.py verify_log`: the log re-derived from its leaves. Every leaf's hash is its entry's, the
indexes run from 0 without a gap, every stored node is the hash of its leaves, every checkpoint's
root is the root of its size and its signature is the log key's, and every retirement is a leaf.
One pass over the leaves, in index order (a stack of perfect subtrees, as the log appends)."""

from django.db.models import Exists, OuterRef

from retirements.models import Retirement

from . import merkle
from .keys import origin, public_key
from .models import NODE_STRIDE, Checkpoint, LogLeaf, LogNode
from .notes import NoteError, checkpoint_parsed, note_text_verified

CHUNK = 10_000


def log_breaches(*, limit: int = 100) -> list[str]:
    breaches: list[str] = []
    checkpoints = {checkpoint.size: checkpoint for checkpoint in Checkpoint.objects.all()}
    nodes = dict(((level, index), bytes(hashed)) for level, index, hashed
                 in LogNode.objects.values_list("level", "index", "hash").iterator(chunk_size=CHUNK))
    seen_nodes = 0
    stack: list[tuple[int, bytes]] = []  # (level, hash) of the perfect subtrees so far, largest first
    size = 0
    if 0 in checkpoints and bytes(checkpoints[0].root_hash) != merkle.EMPTY_ROOT:
        breaches.append("checkpoint of 0 leaves: its root is not the empty tree's")
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
        if size in checkpoints:
            root_hash = stack[-1][1]
            for _, left in reversed(stack[:-1]):
                root_hash = merkle.node_hash(left, root_hash)
            if bytes(checkpoints[size].root_hash) != root_hash:
                breaches.append(f"checkpoint of {size} leaves: its root is not the leaves' root")
        if len(breaches) >= limit:
            return breaches
    if seen_nodes != len(nodes):
        breaches.append(f"{len(nodes) - seen_nodes} stored nodes no complete subtree of the leaves accounts for")
    key = public_key()
    for checkpoint in checkpoints.values():
        if checkpoint.size > size:
            breaches.append(f"checkpoint of {checkpoint.size} leaves: the log has only {size}")
        try:
            body = checkpoint_parsed(note_text_verified(checkpoint.note, name=origin(), public_key=key))
        except NoteError as error:
            breaches.append(f"checkpoint of {checkpoint.size} leaves: {error}")
            continue
        if (body.size, body.root_hash) != (checkpoint.size, bytes(checkpoint.root_hash)):
            breaches.append(f"checkpoint of {checkpoint.size} leaves: its note signs another size or root")
    missing = Retirement.objects.filter(~Exists(LogLeaf.objects.filter(retirement=OuterRef("pk")))).count()
    if missing:
        breaches.append(f"{missing} retirements are not in the log (its consumer may be behind)")
    return breaches[:limit]
