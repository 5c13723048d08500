"""Every read of the public log, for its endpoints, the auditors' page and the verification page
alike: checkpoints, proofs and leaves, as plain JSON values (hashes in base64, as C2SP writes them)."""

import base64

from django.db.models import Subquery
from django.urls import reverse

from retirements.models import Retirement

from . import merkle, tree
from .keys import log_verifier_key, origin, witness_verifier_key
from .models import Checkpoint, LogLeaf, WitnessedLog
from .notes import COSIGNATURE_V1, verifier_key
from .services import log_size, witnesses

LEAVES_PER_PAGE = 1000


class LogRefused(ValueError):
    """A request for sizes, indexes or ranges the log does not have: its message says which."""


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size").first()


def checkpoint_note(checkpoint: Checkpoint) -> str:
    """The checkpoint's signed note as published: the log's signature, then the witnesses'
    cosignatures it has received (C2SP tlog-cosignature), by the witness's name."""
    return checkpoint.note + "".join(checkpoint.cosignatures.order_by("witness").values_list("line", flat=True))


def checkpoint_json(checkpoint: Checkpoint) -> dict:
    return {"origin": origin(), "size": checkpoint.size, "root_hash": b64(bytes(checkpoint.root_hash)),
            "signed_at": checkpoint.signed_at.isoformat(timespec="seconds"), "note": checkpoint_note(checkpoint)}


def log_description() -> dict:
    """What an auditor needs before anything else: the origin and the key that signs."""
    return {"origin": origin(), "verifier_key": log_verifier_key(), "size": log_size()}


def witnessing() -> dict:
    """For the auditors' page: the witnesses asked to cosign this log's checkpoints (their verifier
    keys), and, as a witness, this registry's key and the logs it witnesses with their latest size."""
    return {"witnesses": [verifier_key(witness.name, witness.public_key, COSIGNATURE_V1) for witness in witnesses()],
            "witness_key": witness_verifier_key(),
            "witnessed": list(WitnessedLog.objects.order_by("origin").values("origin", "size", "cosigned_at"))}


def _size_checked(size: int | None, *, name: str = "tree_size", current: int | None = None) -> int:
    current = log_size() if current is None else current
    if size is None:
        latest = checkpoint_latest()
        return latest.size if latest else current
    if not 0 <= size <= current:
        raise LogRefused(f"{name} must be between 0 and the log's size, {current}; it was {size}.")
    return size


def inclusion_proof(*, retirement: Retirement | None = None, index: int | None = None,
                    tree_size: int | None = None) -> dict:
    """The inclusion proof of a retirement's leaf (or the leaf at `index`) in the log's first
    `tree_size` leaves (the latest checkpoint's size when not given)."""
    leaves = LogLeaf.objects.filter(retirement=retirement) if retirement is not None else LogLeaf.objects.filter(
        index=index)
    # The log's size read with the leaf: one round trip fewer (bench/publiclog.py).
    leaf = leaves.annotate(log_size=Subquery(LogLeaf.objects.order_by("-index").values("index")[:1]) + 1).first()
    if leaf is None:
        raise LogRefused("That retirement is not in the log yet." if retirement is not None
                         else f"The log has no leaf {index}.")
    size = _size_checked(tree_size, current=leaf.log_size)
    if leaf.index >= size:
        raise LogRefused(f"Leaf {leaf.index} is not in the log's first {size} leaves: ask for a larger tree_size.")
    proof, [root_hash] = tree.proof_and_roots(merkle.inclusion_ranges(leaf.index, size), [size])
    return {"leaf_index": leaf.index, "tree_size": size, "entry": b64(bytes(leaf.entry)),
            "leaf_hash": b64(bytes(leaf.hash)), "proof": [b64(node) for node in proof], "root_hash": b64(root_hash)}


def consistency_proof(*, old_size: int, new_size: int) -> dict:
    old_size = _size_checked(old_size, name="first")
    new_size = _size_checked(new_size, name="second")
    if old_size > new_size:
        raise LogRefused(f"first ({old_size}) must not be larger than second ({new_size}).")
    proof, roots = tree.proof_and_roots(merkle.consistency_ranges(old_size, new_size), [old_size, new_size])
    return {"first": old_size, "second": new_size, "proof": [b64(node) for node in proof],
            "first_root_hash": b64(roots[0]), "second_root_hash": b64(roots[1])}


def leaves_range(*, start: int, end: int) -> dict:
    """The leaves [start, end), at most LEAVES_PER_PAGE: index, entry (the record digest), leaf hash."""
    size = log_size()
    if not 0 <= start < end <= size:
        raise LogRefused(f"start and end must satisfy 0 <= start < end <= {size} (the log's size).")
    end = min(end, start + LEAVES_PER_PAGE)
    rows = LogLeaf.objects.filter(index__gte=start, index__lt=end).order_by("index").values_list(
        "index", "entry", "hash", "retirement__reference")
    return {"start": start, "end": end, "leaves": [
        {"index": index, "entry": b64(bytes(entry)), "leaf_hash": b64(bytes(hashed)), "reference": reference}
        for index, entry, hashed, reference in rows]}


def retirement_log_proof(retirement: Retirement) -> dict | None:
    """A retirement's place in the log for its verification page and JSON: its leaf, the latest
    checkpoint that includes it and the inclusion proof against it; None before it is checkpointed."""
    leaf = LogLeaf.objects.filter(retirement=retirement).first()
    if leaf is None:
        return None
    checkpoint = checkpoint_latest()
    answer = {"leaf_index": leaf.index, "entry": b64(bytes(leaf.entry)), "leaf_hash": b64(bytes(leaf.hash)),
              "origin": origin(), "verifier_key": log_verifier_key(),
              "auditors_page": reverse("publiclog:auditors")}
    if checkpoint is None or checkpoint.size <= leaf.index:
        return answer | {"checkpoint": None, "proof": None, "verified": None}
    proof = tree.proof(merkle.inclusion_ranges(leaf.index, checkpoint.size))
    verified = merkle.inclusion_verified(leaf=bytes(leaf.hash), index=leaf.index, size=checkpoint.size,
                                         proof=proof, root_hash=bytes(checkpoint.root_hash))
    return answer | {"checkpoint": checkpoint_json(checkpoint), "proof": [b64(node) for node in proof],
                     "verified": verified}
