from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.utils import timezone

from accounts.models import Account
from certificates.models import Certificate, Generator, Int8Range
from certificates.serials import format_serial
from registry.models import Organization, TrackingSystem
from transfers.models import Transfer


class ImportSource(models.Model):
    """A tracking system certificates are imported from, as this registry holds its imports: a stand-in
    organization of its own (no members) owning its import generators and a reserve account, where an
    import's certificates wait, pending, for their recipient (a reserve account receives no transfer)."""

    tracking_system = models.OneToOneField(TrackingSystem, on_delete=models.PROTECT, related_name="import_source")
    organization = models.OneToOneField(Organization, on_delete=models.PROTECT, related_name="+")
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["tracking_system__code"]

    def __str__(self) -> str:
        return f"Imports from {self.tracking_system.name}"


class Import(models.Model):
    """An import by conversion, recorded by registry staff: certificates another tracking system retired
    there for this registry (its serials `original_serial_base`-`original_start` to `original_end`),
    issued again here as one certificate of an import generator, with the source's code in its serial
    base, pending for `recipient` (its transfer, of kind import) until accepted or rejected.

    The same serials of the same source never come in twice, nor overlap an earlier import's: the
    database refuses it (import_serials_once_per_source), whatever became of the earlier import."""

    tracking_system = models.ForeignKey(TrackingSystem, on_delete=models.PROTECT, related_name="imports")
    original_serial_base = models.CharField("original serial base", max_length=128)
    original_start = models.BigIntegerField()
    original_end = models.BigIntegerField()
    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="imports")
    # The generator as the source described it at this import (id, name, fuel, technology, state, capacity).
    generator_as_known = models.JSONField(default=dict)
    certificate = models.OneToOneField(Certificate, on_delete=models.PROTECT, related_name="import_record")
    # One transfer for the recipient to decide per import file row or staff form, and one per export another
    # registry running this project sent (its batches, each a certificate here, accepted or rejected together).
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="import_records")
    recipient = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="imports_received")
    source_file = models.CharField("import file", max_length=200, blank=True,
                                   help_text="The file it was uploaded in, if any, with its row.")
    # Registry staff who recorded it; none when another registry running this project sent it (its message).
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                    null=True, blank=True)
    message_id = models.UUIDField(null=True, blank=True, db_index=True, editable=False,
                                  help_text="The id of the signed message that brought it (registry to registry).")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(original_start__gte=1, original_end__gte=models.F("original_start")),
                name="import_original_range_ordered"),
            ExclusionConstraint(name="import_serials_once_per_source", expressions=[
                ("tracking_system", RangeOperators.EQUAL), ("original_serial_base", RangeOperators.EQUAL),
                (Int8Range("original_start", "original_end", models.Value("[]")), RangeOperators.OVERLAPS)]),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.original_serial}"

    @property
    def original_serial(self) -> str:
        return format_serial(self.original_serial_base, self.original_start, self.original_end)

    @property
    def quantity(self) -> int:
        return self.original_end - self.original_start + 1


class PeerRegistry(models.Model):
    """A tracking system that runs this project too: where its import endpoint is, and the public key its
    messages are signed with (the base64 of an Ed25519 public key's 32 bytes, as it publishes it). Messages
    from it are verified with that key before anything changes (imports.messages)."""

    tracking_system = models.OneToOneField(TrackingSystem, on_delete=models.PROTECT, related_name="peer")
    url = models.URLField("address", help_text="Its base address, e.g. https://registry.example.org")
    public_key = models.CharField(max_length=64, help_text="Its Ed25519 public key, base64 (44 characters).")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "registry running this project"
        verbose_name_plural = "registries running this project"

    def __str__(self) -> str:
        return f"{self.tracking_system.name} at {self.url}"


class ReceivedMessage(models.Model):
    """A signed message another registry running this project sent and this one acted on (an export made
    an import here; an answer confirmed or returned an export): written in the transaction that acted,
    its unique id the proof that a message received twice, or by two servers at once, acts once."""

    class Type(models.TextChoices):
        EXPORT = "export", "Export (made an import here)"
        ANSWER = "answer", "Answer (to an export from here)"

    message_id = models.UUIDField(unique=True, editable=False)
    tracking_system = models.ForeignKey(TrackingSystem, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=16, choices=Type.choices)
    # The export this message is about, as the exporting registry numbers its transfers.
    export_reference = models.BigIntegerField()
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="+",
                                 help_text="The transfer here it made (an import) or decided (an export).")
    decision = models.CharField(max_length=16, blank=True, help_text="An answer's: accepted or rejected.")
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["tracking_system", "type", "export_reference"],
                                               name="received_message_once_per_export")]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.message_id} from {self.tracking_system.code}"


class Reconciliation(models.Model):
    """One comparison with a registry running this project (imports.reconciling): what this registry sent
    it and received from it against what it says it received and sent; `differences` in words, for staff."""

    tracking_system = models.ForeignKey(TrackingSystem, on_delete=models.PROTECT, related_name="+")
    ran_at = models.DateTimeField(default=timezone.now)
    compared = models.PositiveIntegerField(default=0, help_text="How many exports both sides were compared on.")
    differences = models.JSONField(default=list)
    problem = models.TextField(blank=True, help_text="Why the comparison could not be made, if it could not.")

    class Meta:
        ordering = ["-ran_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation with {self.tracking_system.code} at {self.ran_at:%Y-%m-%d %H:%M}"
