import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from certificates.models import Certificate, Generator
from certificates.periods import ProductionPeriod
from certificates.serials import format_serial
from registry.models import Organization
from utilities.csv_upload import CsvUploadRecord

MWH_DECIMALS = 3


def generation_upload_path(upload: "GenerationUpload", filename: str) -> str:
    return f"generation-uploads/{upload.organization_id}/{uuid.uuid4().hex}.csv"


class GenerationReporter(models.Model):
    """A reporting entity that registry staff authorise to upload a generator's generation data
    (besides the generator's owner): a meter-data agent, a scheduling coordinator."""

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="reporters")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="generators_reported")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["generator", "organization"], name="reporter_once")]

    def __str__(self) -> str:
        return f"{self.organization} reports for {self.generator.code}"


class GenerationUpload(CsvUploadRecord):
    """One generation-data CSV (Generator ID, Month, MWh): stored, then validated and applied, all
    or nothing, by a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PROCESSING = "processing", "Processing"
        FAILED = "failed", "Failed"
        COMPLETED = "completed", "Completed"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="generation_uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file = models.FileField(upload_to=generation_upload_path)
    status = models.CharField(max_length=16, choices=Status, default=Status.QUEUED)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Generation upload {self.pk} ({self.filename}, {self.status})"

    nothing_done = "No generation was recorded"


class GenerationReportQuerySet(models.QuerySet):
    def visible_to(self, organization: Organization) -> "GenerationReportQuerySet":
        """The reports of the organization's generators, and those it submitted as a reporter."""
        return self.filter(Q(generator__organization=organization) | Q(upload__organization=organization))

    def live(self) -> "GenerationReportQuerySet":
        return self.exclude(status=GenerationReport.Status.REPLACED)

    def with_issued(self) -> "GenerationReportQuerySet":
        """Each report with `issued`: its issuance in force with its certificate, in a list of at most one
        (a rolled-back issuance's report may be issued again)."""
        return self.prefetch_related(models.Prefetch(
            "issuances", Issuance.objects.in_force().select_related("certificate"), to_attr="issued"))


class GenerationReport(models.Model):
    """A generator's metered output for one month, in MWh (up to three decimals).

    At most one live report per generator and month (a constraint). A corrected upload before the
    month is issued replaces the submitted report (kept, marked replaced); an issued month is final.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Submitted"
        ISSUED = "issued", "Issued"
        REPLACED = "replaced", "Replaced by a later upload"

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="generation_reports")
    month = models.DateField(help_text="First day of the month.")
    mwh = models.DecimalField("MWh", max_digits=15, decimal_places=MWH_DECIMALS)
    upload = models.ForeignKey(GenerationUpload, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="reports")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=Status, default=Status.SUBMITTED)
    created_at = models.DateTimeField(default=timezone.now)

    objects = GenerationReportQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "generator__code"]
        constraints = [
            models.UniqueConstraint(fields=["generator", "month"], condition=~Q(status="replaced"),
                                    name="generation_report_live_once_per_month"),
            models.CheckConstraint(condition=Q(mwh__gte=0), name="generation_report_mwh_not_negative"),
            models.CheckConstraint(condition=Q(month__day=1), name="generation_report_month_first_day"),
        ]
        indexes = [models.Index(fields=["month", "status"])]

    def __str__(self) -> str:
        return f"{self.generator.code} {self.period}: {self.mwh} MWh"

    @property
    def period(self) -> ProductionPeriod:
        """The month, as a production period (written `01/2020`, as the certificates' are)."""
        return ProductionPeriod.month_of(self.month)


class IssuanceQuerySet(models.QuerySet):
    def visible_to(self, organization: Organization) -> "IssuanceQuerySet":
        """An issuance is its generator owner's: the certificates went to its account."""
        return self.filter(generator__organization=organization)

    def in_force(self) -> "IssuanceQuerySet":
        """Those not rolled back: what the generator's carry and the next month to issue follow."""
        return self.filter(rolled_back_at__isnull=True)


class Issuance(models.Model):
    """One generator's month issued: whole MWh from the report plus the fraction carried from the
    generator's previous issuance (issuance.arithmetic.issued_quantity). The database refuses a
    second issuance of the same month while one is in force. A quantity of 0 issues no certificate
    but records the carry.

    Registry staff may roll it back (issuance.corrections.issuance_rollback): it is kept, with who, when
    and why, its certificate voided and its report submitted again, and the month may be issued again."""

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="issuances")
    month = models.DateField()
    # A report is issued once while in force: a rolled-back issuance's report is issued again by the next.
    report = models.ForeignKey(GenerationReport, on_delete=models.PROTECT, related_name="issuances")
    certificate = models.OneToOneField(Certificate, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="issuance")
    mwh = models.DecimalField("MWh", max_digits=15, decimal_places=MWH_DECIMALS)
    carry_in = models.DecimalField("MWh carried in", max_digits=4, decimal_places=MWH_DECIMALS)
    carry_out = models.DecimalField("MWh carried out", max_digits=4, decimal_places=MWH_DECIMALS)
    quantity = models.PositiveIntegerField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    rolled_back_at = models.DateTimeField(null=True, blank=True, editable=False)
    rolled_back_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                       editable=False, related_name="+")
    rollback_reason = models.TextField(blank=True, editable=False)

    objects = IssuanceQuerySet.as_manager()

    class Meta:
        ordering = ["-month", "generator__code"]
        constraints = [
            models.UniqueConstraint(fields=["generator", "month"], condition=Q(rolled_back_at__isnull=True),
                                    name="issuance_once_per_month"),
            models.UniqueConstraint(fields=["report"], condition=Q(rolled_back_at__isnull=True),
                                    name="issuance_once_per_report"),
            models.CheckConstraint(condition=Q(rolled_back_at__isnull=True)
                                   | Q(rolled_back_by__isnull=False) & ~Q(rollback_reason=""),
                                   name="issuance_rollback_says_who_and_why"),
            models.CheckConstraint(condition=Q(carry_in__gte=0, carry_in__lt=1, carry_out__gte=0, carry_out__lt=1),
                                   name="issuance_carry_is_a_fraction"),
            models.CheckConstraint(condition=Q(quantity=0, certificate__isnull=True)
                                   | Q(quantity__gt=0, certificate__isnull=False),
                                   name="issuance_certificate_when_quantity"),
            models.CheckConstraint(condition=Q(mwh=models.F("quantity") + models.F("carry_out") - models.F("carry_in")),
                                   name="issuance_conserves_mwh"),
        ]

    def __str__(self) -> str:
        rolled_back = ", rolled back" if self.rolled_back_at else ""
        return f"{self.generator.code} {self.period}: {self.quantity} issued{rolled_back}"

    @property
    def is_rolled_back(self) -> bool:
        return self.rolled_back_at is not None

    @property
    def period(self) -> ProductionPeriod:
        """The month, as a production period (written `01/2020`, as the certificates' are)."""
        return ProductionPeriod.month_of(self.month)

    @property
    def serial_range(self) -> str:
        """The serials issued, as the dashboard shows a batch: `M805-MN-01-2020-4F2A9C-1 to 1000`."""
        return format_serial(self.certificate.serial_base, 1, self.quantity) if self.certificate else ""
