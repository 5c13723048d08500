import datetime
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Account
from certificates.models import CertificateBatch
from registry.models import Organization, TrackingSystem

from .values import (
    RECIPIENT_ACCOUNT_REF_MAX_LENGTH,
    RECIPIENT_NAME_MAX_LENGTH,
    TransferKind,
    TransferStatus,
    destination_label,
)

NOTES_MAX_LENGTH = 500


def pending_lifetime() -> datetime.timedelta:
    """How long a transfer to another organization waits for the recipient's decision before it
    expires and the certificates go back: TRANSFER_PENDING_DAYS from its submission."""
    return datetime.timedelta(days=settings.TRANSFER_PENDING_DAYS)


class Transfer(models.Model):
    """One user transaction moving one or more batch quantities to one destination."""

    Kind = TransferKind  # in transfers.values, which the refusals and Destination read
    Status = TransferStatus

    kind = models.CharField(max_length=16, choices=Kind, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    organization = models.ForeignKey(  # indexed by (organization, status)
        Organization, on_delete=models.PROTECT, related_name="transfers_sent", db_index=False
    )
    # None only for an import another registry's message made (imports.messages): no person here submitted it.
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                   blank=True)
    destination_account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers_in"
    )
    recipient_organization = models.ForeignKey(  # indexed by (recipient_organization, status)
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers_received",
        db_index=False,
    )
    tracking_system = models.ForeignKey(
        TrackingSystem, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers"
    )
    recipient_name = models.CharField(max_length=RECIPIENT_NAME_MAX_LENGTH, blank=True)
    recipient_account_ref = models.CharField("recipient's account ID", max_length=RECIPIENT_ACCOUNT_REF_MAX_LENGTH,
                                             blank=True)
    notes = models.TextField(max_length=NOTES_MAX_LENGTH, blank=True)
    # The wizard's selections while the transfer is a draft (batch ids, quantities, destination).
    draft = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(blank=True)
    # Points up to the mass_uploads app (a layer above) by name only: the upload that made the
    # transfer is a fact of the transfer's row, and moving the column would rewrite the table.
    mass_upload = models.ForeignKey(
        "mass_uploads.MassTransferUpload", on_delete=models.PROTECT, null=True, blank=True, related_name="transfers"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["recipient_organization", "status"]),
            models.Index(fields=["status", "submitted_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(recipient_organization=models.F("organization")),
                name="transfer_not_to_own_organization",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "failed"])
                | models.Q(kind="internal", destination_account__isnull=False)
                | models.Q(kind="retirement", destination_account__isnull=False)
                | models.Q(kind="organization", recipient_organization__isnull=False)
                | models.Q(kind="export", tracking_system__isnull=False)
                | models.Q(kind="import", tracking_system__isnull=False, recipient_organization__isnull=False),
                name="transfer_has_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer {self.pk} ({self.get_kind_display()}, {self.status})"

    @property
    def expires_at(self) -> datetime.datetime | None:
        """When this transfer expires if the recipient has not accepted or rejected it (nor the sender
        withdrawn it) by then: only a pending transfer to another organization expires."""
        if self.status != self.Status.PENDING or self.kind != self.Kind.ORGANIZATION or self.submitted_at is None:
            return None
        return self.submitted_at + pending_lifetime()

    @staticmethod
    def expiry_cutoff(now: datetime.datetime) -> datetime.datetime:
        """Pending transfers to another organization submitted at or before this moment have expired."""
        return now - pending_lifetime()

    @property
    def decision_note_label(self) -> str:
        """How the note of the decision that closed the transfer is headed on its page, summary and emails."""
        return {self.Status.REJECTED: "Reason for rejection",
                self.Status.FAILED: "Why it failed"}.get(self.status, "Note on the decision")

    @property
    def destination_label(self) -> str:
        return destination_label(kind=self.kind, account=self.destination_account,
                                 organization=self.recipient_organization, tracking_system=self.tracking_system,
                                 recipient_name=self.recipient_name, recipient_account_ref=self.recipient_account_ref)

    @property
    def noun(self) -> str:
        """What the pages call it: an import, or a transfer."""
        return "Import" if self.kind == Transfer.Kind.IMPORT else "Transfer"

    @property
    def origin_label(self) -> str:
        """Where an import came from, as its pages, tabs and emails say it ("" for any other transfer)."""
        return f"Imported from {self.tracking_system.name}" if self.kind == Transfer.Kind.IMPORT else ""

    def counterparty_label(self, organization: Organization) -> str:
        """The other side of this transfer as `organization` (its sender or its recipient) reads it:
        where it went, for a transfer it sent; who sent it, for one it received."""
        if self.kind == Transfer.Kind.IMPORT:  # worded by origin, for the recipient and registry staff alike
            return self.origin_label
        if self.recipient_organization_id == organization.pk:
            return "From " + destination_label(kind=Transfer.Kind.ORGANIZATION, organization=self.organization)
        return "To " + self.destination_label


class PendingExport(Transfer):
    """The registry staff's queue: exports waiting for the receiving tracking system's answer."""

    class Meta:
        proxy = True
        verbose_name = "pending export"


class TransferItem(models.Model):
    """One batch quantity of a transfer: the batch that moved and the one it was taken from."""

    transfer = models.ForeignKey(  # indexed by the unique (transfer, batch)
        Transfer, on_delete=models.PROTECT, related_name="items", db_index=False
    )
    batch = models.ForeignKey(CertificateBatch, on_delete=models.PROTECT, related_name="transfer_items")
    source_batch = models.ForeignKey(CertificateBatch, on_delete=models.PROTECT, related_name="+")
    source_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["transfer", "batch"], name="transfer_item_unique_batch")
        ]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.batch_id}"


# Where a mass upload's file is stored (mass_uploads.MassTransferUpload.file): here, where the
# migrations that made the upload's table name it.
def mass_upload_path(upload: models.Model, filename: str) -> str:
    return f"mass-transfers/{upload.organization_id}/{timezone.now():%Y/%m}/{upload.sha256[:16]}.csv"


# A retirement's reference (retirements.Retirement.reference): here, where the migrations that
# made the retirement's table name its default.
# Crockford's base32: no I, L, O or U, so a reference read aloud or copied by hand stays itself.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 20  # 100 random bits


def retirement_reference() -> str:
    """A new retirement's public reference: unguessable, and the only way to its verification page."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
