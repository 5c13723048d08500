"""Merkle tree hashing as RFC 9162 (section 2.1) specifies it, with its inclusion and consistency
proofs: pure functions, no Django, so that an auditor can read them against the RFC.

A tree over n leaves D[0:n] has the hash MTH(D[0:n]): SHA-256 of nothing for no leaf;
SHA-256(0x00 || d) for one leaf d; otherwise SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), with k
the largest power of two smaller than n.

The log keeps its hashes in a store (the database), so the proofs are built in two steps: first the
subtrees a proof needs (`inclusion_ranges`, `consistency_ranges`: ranges [start, end) of leaves), then
the hash of each from the store's perfect subtrees (`perfect_parts` says which, `range_hash` combines
them). Every range a proof names starts at a multiple of the largest power of two not above its
length, so it is a perfect subtree or one whose parts are perfect subtrees of decreasing size."""

import hashlib
from collections.abc import Callable, Mapping, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# A perfect subtree: (level, index) covers the leaves [index << level, (index + 1) << level).
Perfect = tuple[int, int]


class ProofError(ValueError):
    """A proof asked for sizes or indexes the tree does not have."""


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves whose hashes are given, computed bottom up (no recursion)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Fold the perfect subtrees as they complete (a stack, as a log appends), then the right edge.
    stack: list[tuple[int, bytes]] = []  # (size, hash), sizes strictly decreasing
    for hashed in leaf_hashes:
        size, current = 1, hashed
        while stack and stack[-1][0] == size:
            current = node_hash(stack.pop()[1], current)
            size *= 2
        stack.append((size, current))
    current = stack.pop()[1]
    while stack:
        current = node_hash(stack.pop()[1], current)
    return current


def perfect_parts(start: int, end: int) -> list[Perfect]:
    """The perfect subtrees that make up the range [start, end), left to right, largest first."""
    parts = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        parts.append((level, start >> level))
        start += 1 << level
    return parts


def range_hash(start: int, end: int, perfect: Mapping[Perfect, bytes] | Callable[[Perfect], bytes]) -> bytes:
    """MTH(D[start:end]) for a range a proof names, from the hashes of its perfect parts."""
    get = perfect.__getitem__ if isinstance(perfect, Mapping) else perfect
    parts = [get(part) for part in perfect_parts(start, end)]
    current = parts.pop()
    while parts:
        current = node_hash(parts.pop(), current)
    return current


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ProofError(f"Leaf {index} is not in a tree of {size} leaves.")


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes make up the inclusion proof of leaf `index` in the tree of `size`
    leaves (RFC 9162 2.1.3.1, PATH(m, D[n])), from the leaf up."""
    _check_index(index, size)
    ranges = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start = start + k
    return ranges[::-1]


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The subtrees whose hashes make up the consistency proof from the tree of `old_size` leaves to
    that of `new_size` (RFC 9162 2.1.4.1, PROOF(m, D[n]) = SUBPROOF(m, D[n], true))."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"No consistency proof goes from {old_size} leaves to {new_size}.")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    start, end, m, complete = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m, complete = start + k, m - k, False
    return ranges[::-1]


def proof_hashes(ranges: list[tuple[int, int]], perfect: Mapping[Perfect, bytes] | Callable[[Perfect], bytes]
                 ) -> list[bytes]:
    return [range_hash(start, end, perfect) for start, end in ranges]


def parts_needed(ranges: list[tuple[int, int]]) -> set[Perfect]:
    """Every perfect subtree the hashes of `ranges` are made of: what to read from the store."""
    return {part for start, end in ranges for part in perfect_parts(start, end)}


def tree_inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion proof of leaf `index` in the tree of these leaves (held in memory)."""
    return proof_hashes(inclusion_ranges(index, len(leaf_hashes)), _in_memory(leaf_hashes))


def tree_consistency_proof(leaf_hashes: Sequence[bytes], old_size: int) -> list[bytes]:
    return proof_hashes(consistency_ranges(old_size, len(leaf_hashes)), _in_memory(leaf_hashes))


def _in_memory(leaf_hashes: Sequence[bytes]) -> Callable[[Perfect], bytes]:
    def perfect(part: Perfect) -> bytes:
        level, index = part
        return root(leaf_hashes[index << level:(index + 1) << level])
    return perfect


def inclusion_root(*, leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root a tree of `size` leaves would have if `leaf` (its hash) is at `index` and `proof` is
    its inclusion proof (RFC 9162 2.1.3.2); a ProofError if the proof has the wrong length."""
    _check_index(index, size)
    fn, sn, current = index, size - 1, leaf
    for sibling in proof:
        if len(sibling) != HASH_SIZE or sn == 0:
            raise ProofError("The proof has a hash too many or of the wrong size.")
        if fn & 1 or fn == sn:
            current = node_hash(sibling, current)
            if not fn & 1:
                while not fn & 1 and fn:
                    fn, sn = fn >> 1, sn >> 1
        else:
            current = node_hash(current, sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("The proof is missing hashes.")
    return current


def inclusion_verified(*, leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> bool:
    try:
        return inclusion_root(leaf=leaf, index=index, size=size, proof=proof) == root_hash
    except ProofError:
        return False


def consistency_verified(*, old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                         proof: Sequence[bytes]) -> bool:
    """Whether `proof` shows that the tree of `new_size` leaves with `new_root` extends the tree of
    `old_size` leaves with `old_root` (RFC 9162 2.1.4.2)."""
    if not 0 <= old_size <= new_size or any(len(node) != HASH_SIZE for node in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
