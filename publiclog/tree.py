"""The log's tree as the database stores it (models.py): the hashes of perfect subtrees, read in
one statement per proof, and the stored nodes a batch of new leaves completes.

SQL reads by arrays of keys: a proof in a log of 10,000,000 leaves reads about 24 subtrees of at most
8 stored hashes each, in one statement (bench/publiclog.py)."""

from collections import defaultdict

from django.db import connection

from . import merkle
from .models import NODE_STRIDE, LogLeaf, LogNode

Perfect = merkle.Perfect


def _stored(part: Perfect) -> tuple[int, list[int]]:
    """The stored level a perfect subtree is folded from, and the indexes of its hashes there."""
    level, index = part
    below = level % NODE_STRIDE
    first = index << below
    return level - below, list(range(first, first + (1 << below)))


def stored_hashes(keys: dict[int, set[int]]) -> dict[tuple[int, int], bytes]:
    """The stored hashes at {level: indexes}: level 0 from the leaves, the others from the nodes, in
    one statement (a proof's round trips are most of its time on a loaded machine: bench/publiclog.py)."""
    levels, indexes = [], []
    for level, wanted in keys.items():
        if level:
            levels += [level] * len(wanted)
            indexes += sorted(wanted)
    with connection.cursor() as cursor:
        cursor.execute(f"""SELECT 0, index, hash FROM {LogLeaf._meta.db_table} WHERE index = ANY(%s)
                           UNION ALL
                           SELECT n.level, n.index, n.hash FROM {LogNode._meta.db_table} n
                            JOIN unnest(%s::smallint[], %s::bigint[]) AS k(level, index)
                              ON n.level = k.level AND n.index = k.index""",
                       [sorted(keys.get(0, ())), levels, indexes])
        return {(level, index): bytes(hashed) for level, index, hashed in cursor.fetchall()}


def perfect_hashes(parts: set[Perfect]) -> dict[Perfect, bytes]:
    """The hash of each perfect subtree in `parts` (all complete in the stored tree)."""
    keys: dict[int, set[int]] = defaultdict(set)
    for part in parts:
        level, indexes = _stored(part)
        keys[level].update(indexes)
    found = stored_hashes(keys)
    hashes = {}
    for part in parts:
        level, indexes = _stored(part)
        hashes[part] = merkle.root([found[(level, index)] for index in indexes])
    return hashes


def proof(ranges: list[tuple[int, int]]) -> list[bytes]:
    """The hashes of the subtrees a proof names (merkle.inclusion_ranges, consistency_ranges)."""
    return merkle.proof_hashes(ranges, perfect_hashes(merkle.parts_needed(ranges)))


def proof_and_roots(ranges: list[tuple[int, int]], sizes: list[int]) -> tuple[list[bytes], list[bytes]]:
    """A proof's hashes and the root hashes of the trees of `sizes` leaves, read together (one read
    of the stored hashes: the proofs' latency, bench/publiclog.py)."""
    roots = [(0, size) for size in sizes if size]
    hashes = perfect_hashes(merkle.parts_needed(ranges + roots))
    return (merkle.proof_hashes(ranges, hashes),
            [merkle.range_hash(0, size, hashes) if size else merkle.EMPTY_ROOT for size in sizes])


def tree_root(size: int) -> bytes:
    """The root hash of the log's first `size` leaves."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_hash(0, size, perfect_hashes(set(merkle.perfect_parts(0, size))))


def nodes_completed(*, old_size: int, new_leaves: list[bytes]) -> list[LogNode]:
    """The stored nodes that appending `new_leaves` (hashes) to a log of `old_size` leaves completes:
    at each stored level, every subtree of 2**NODE_STRIDE nodes of the level below that ends after
    `old_size` and at or before the new size. Reads the older hashes of those subtrees it needs."""
    new_size = old_size + len(new_leaves)
    known = {(0, old_size + offset): hashed for offset, hashed in enumerate(new_leaves)}
    created = []
    width = 1 << NODE_STRIDE
    level = NODE_STRIDE
    while (1 << level) <= new_size:
        below = level - NODE_STRIDE
        first, last = (old_size >> level), (new_size >> level)  # the subtrees [first, last) may be new
        first = max(first, 0)
        wanted = {index for node in range(first, last) for index in range(node * width, (node + 1) * width)
                  if (below, index) not in known}
        if wanted:
            known |= stored_hashes({below: wanted})
        for node in range(first, last):
            if ((node + 1) << level) <= old_size:
                continue
            hashed = merkle.root([known[(below, index)] for index in range(node * width, (node + 1) * width)])
            known[(level, node)] = hashed
            created.append(LogNode(level=level, index=node, hash=hashed))
        level += NODE_STRIDE
    return created
