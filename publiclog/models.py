"""The public log of retirements (issue #34): an append-only Merkle tree (RFC 9162) whose leaves are
the retirements' record digests, in the order the log took them, and the checkpoints the registry
signed of it. The database refuses to change or delete any of these rows (migration 0002).

What is stored answers a proof in a few milliseconds however large the log: each leaf's hash, and
the hash of every perfect subtree of 16, 256, 4096, ... leaves (levels 4, 8, 12, ...: NODE_STRIDE),
so that any subtree a proof needs is folded from at most 8 stored hashes (publiclog/tree.py)."""

from django.db import models
from django.utils import timezone

from retirements.models import Retirement

NODE_STRIDE = 4  # the levels whose perfect subtrees are stored: multiples of this (level 0: the leaves)


class LogLeaf(models.Model):
    """One retirement in the log, at `index` (from 0): its entry is the SHA-256 digest of its
    record's canonical form as the log took it (retirements/statements.py), 32 bytes, and its hash
    SHA-256(0x00 || entry). A retirement made private stays a leaf: its digest reveals nothing."""

    index = models.BigIntegerField(primary_key=True)
    retirement = models.OneToOneField(Retirement, on_delete=models.PROTECT, related_name="log_leaf")
    entry = models.BinaryField(max_length=32)
    hash = models.BinaryField(max_length=32)
    appended_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(index__gte=0), name="log_leaf_index_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Log leaf {self.index}"


class LogNode(models.Model):
    """The hash of the perfect subtree at (level, index): the leaves [index * 2**level, (index + 1) *
    2**level), stored for the levels that are multiples of NODE_STRIDE, once the subtree is complete."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField(max_length=32)

    def __str__(self) -> str:
        return f"Log node {self.level}/{self.index}"


class Checkpoint(models.Model):
    """A signed checkpoint of the log: its origin, size and root hash in the C2SP tlog-checkpoint
    format, signed as a C2SP signed note (`note`, exactly as served). Every one is kept."""

    size = models.BigIntegerField(unique=True)
    root_hash = models.BinaryField(max_length=32)
    note = models.TextField()
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        get_latest_by = "size"
        ordering = ["-size"]

    def __str__(self) -> str:
        return f"Checkpoint of {self.size} leaves"


class Cosignature(models.Model):
    """A witness's cosignature of one of the log's checkpoints (C2SP tlog-cosignature), verified
    against the witness's configured key: the signature line as the witness sent it, published after
    the log's own signature on the checkpoint's note. Kept for good, as the checkpoints are."""

    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.CharField(max_length=200)  # the witness's name, as its key names it
    line = models.TextField()
    cosigned_at = models.DateTimeField()  # the time the witness signed with it

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "witness"], name="cosignature_once_per_witness")]

    def __str__(self) -> str:
        return f"Cosignature of {self.witness} on {self.checkpoint}"


class WitnessedLog(models.Model):
    """Another log this registry witnesses: the latest of its checkpoints this registry cosigned
    (size, root hash and note as submitted). A new one is cosigned only if a consistency proof joins
    it to this one (C2SP tlog-witness), so a witness never cosigns two branches of a fork."""

    origin = models.CharField(max_length=200, primary_key=True)
    size = models.BigIntegerField(default=0)
    root_hash = models.BinaryField(max_length=32, null=True)
    note = models.TextField(blank=True)
    cosigned_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"Witnessed log {self.origin} at {self.size} leaves"
