"""A mass upload: one CSV of transfers or retirements, applied all or nothing by a worker. The table
keeps the name it had in the transfers app."""

from django.conf import settings
from django.db import models

from registry.models import Organization
from transfers.models import mass_upload_path
from utilities.csv_upload import CsvUploadRecord


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
        db_table = "transfers_masstransferupload"  # the table it had in the transfers app
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
