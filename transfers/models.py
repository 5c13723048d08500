import datetime
import re
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Account
from certificates.models import CertificateBatch
from registry.models import Organization, TrackingSystem
from utilities.csv_upload import CsvUploadRecord

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
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
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
    mass_upload = models.ForeignKey(
        "MassTransferUpload", on_delete=models.PROTECT, null=True, blank=True, related_name="transfers"
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
                | models.Q(kind="export", tracking_system__isnull=False),
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

    def counterparty_label(self, organization: Organization) -> str:
        """The other side of this transfer as `organization` (its sender or its recipient) reads it:
        where it went, for a transfer it sent; who sent it, for one it received."""
        if self.recipient_organization_id == organization.pk:
            return "From " + destination_label(kind=Transfer.Kind.ORGANIZATION, organization=self.organization)
        return "To " + self.destination_label


class RetirementOption(models.Model):
    """What a retirement counts toward (a state's RPS, Green-e, a voluntary claim), kept by registry
    staff: each option says which of a retirement's details it needs."""

    class Type(models.TextChoices):
        STATE_RPS = "state_rps", "State RPS"
        MUNICIPAL_RPS = "municipal_rps", "Municipal RPS"
        UTILITY_GREEN_PRICING = "utility_green_pricing", "Utility Green Pricing"
        GREEN_E = "green_e", "Green-e"
        BENEFICIAL_OWNERSHIP = "beneficial_ownership", "Beneficial Ownership"
        FEDERAL = "federal", "Federal"
        VOLUNTARY_CLAIM = "voluntary_claim", "Voluntary claim"

    class Reason(models.TextChoices):
        COMPLIANCE = "compliance", "Compliance"
        VOLUNTARY = "voluntary", "Voluntary"

    name = models.CharField(max_length=120, unique=True)
    type = models.CharField(max_length=32, choices=Type)
    reason = models.CharField("main reason", max_length=16, choices=Reason)
    state = models.CharField("state or province", max_length=8, blank=True,
                             help_text="The state or province it counts toward, if one (e.g. MN).")
    requires_compliance_period = models.BooleanField(default=False)
    requires_beneficiary = models.BooleanField(default=False)
    is_active = models.BooleanField("active", default=True, help_text="Only active options are offered.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def counts_toward(self) -> str:
        return counts_toward_text(name=self.name, type_label=self.get_type_display(),
                                  reason_label=self.get_reason_display(), state=self.state)

    @property
    def required_details(self) -> list[str]:
        """The details of a retirement this option needs, by their field names (what
        RetirementDetails.problems refuses a retirement without)."""
        needs = {"compliance_period": self.requires_compliance_period, "beneficiary": self.requires_beneficiary}
        return [name for name, needed in needs.items() if needed]


def counts_toward_text(*, name: str, type_label: str, reason_label: str, state: str) -> str:
    """What a retirement counts toward, as every page, email and document says it: the option's
    name, then its type, main reason and state or province, each only if the name does not already
    say it ("Minnesota RES (State RPS, compliance, MN)", but "Voluntary claim" once)."""
    said = name.lower()
    details = []
    for detail in (type_label, reason_label.lower(), state):
        if detail and not re.search(rf"\b{re.escape(detail.lower())}\b", said):
            details.append(detail)
            said += " " + detail.lower()
    return f"{name} ({', '.join(details)})" if details else name


# Crockford's base32: no I, L, O or U, so a reference read aloud or copied by hand stays itself.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 20  # 100 random bits


def retirement_reference() -> str:
    """A new retirement's public reference: unguessable, and the only way to its verification page."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class Retirement(models.Model):
    """The details of a retirement transfer: what it counts toward and for whom, and its public
    reference. Written with the transfer, never changed after (except whether it is private)."""

    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, primary_key=True, related_name="retirement")
    option = models.ForeignKey(RetirementOption, on_delete=models.PROTECT, related_name="retirements")
    compliance_period = models.PositiveSmallIntegerField(null=True, blank=True)
    period_start = models.DateField("reporting period start", null=True, blank=True)
    period_end = models.DateField("reporting period end", null=True, blank=True)
    beneficiary = models.CharField("beneficiary name", max_length=200, blank=True)
    reference = models.CharField(max_length=REFERENCE_LENGTH, unique=True, default=retirement_reference,
                                 editable=False)
    is_private = models.BooleanField("private", default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True) | models.Q(period_end__isnull=True)
                | models.Q(period_start__lte=models.F("period_end")),
                name="retirement_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Retirement {self.reference}"

    @property
    def period_label(self) -> str:
        """The reporting period, as a person reads it ("" if none was given)."""
        if not (self.period_start or self.period_end):
            return ""
        return f"{self.period_start or '…'} to {self.period_end or '…'}"

    def facts(self) -> list[tuple[str, str]]:
        """The details as the wizard's review, the transfer's page and its summary show them."""
        return [("Retirement reference", self.reference), ("Counts toward", self.option.counts_toward),
                ("Compliance period", str(self.compliance_period or "")), ("Reporting period", self.period_label),
                ("Beneficiary", self.beneficiary)]

    def snapshot(self) -> dict:
        """The details as the ledger records them."""
        return {"reference": self.reference, "option": self.option.name, "compliance_period": self.compliance_period,
                "period_start": self.period_start.isoformat() if self.period_start else None,
                "period_end": self.period_end.isoformat() if self.period_end else None,
                "beneficiary": self.beneficiary}


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


class TransferNotification(models.Model):
    """An email owed to the parties of a transfer (a transactional outbox).

    The service that changes the transfer writes this row in its own transaction, so the email is
    owed exactly when the change commits; a worker sends it and deletes the row. Nothing is
    published to the broker inside the transfer's transaction, and a crash between commit and
    publish loses no email.
    """

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="+")
    event_kind = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.transfer_id}: {self.event_kind}"


def mass_upload_path(upload: "MassTransferUpload", filename: str) -> str:
    return f"mass-transfers/{upload.organization_id}/{timezone.now():%Y/%m}/{upload.sha256[:16]}.csv"


class MassTransferUpload(CsvUploadRecord):
    """One mass-transfer or mass-retirement CSV: stored, then validated and applied, all or nothing,
    by a worker."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        RETIREMENT = "retirement", "Retirement"

    class Status(models.TextChoices):
        HELD = "held", "Awaiting confirmation"  # the same file was uploaded within a day
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        COMPLETED = "completed", "Completed"
        DISCARDED = "discarded", "Discarded"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="mass_uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind, default=Kind.TRANSFER)
    file = models.FileField(upload_to=mass_upload_path)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organization", "sha256", "created_at"])]

    def __str__(self) -> str:
        return f"Upload {self.pk} ({self.filename}, {self.status})"

    @property
    def is_retirement(self) -> bool:
        return self.kind == self.Kind.RETIREMENT

    @property
    def nothing_done(self) -> str:
        """How an upload's failure begins: what did not happen."""
        return "Nothing was retired" if self.is_retirement else "Nothing was transferred"
