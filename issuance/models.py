import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Trunc
from django.utils import timezone

from certificates.models import Certificate, Generator
from certificates.periods import Lower, ProductionPeriod, ProductionPeriodField, registry_zone
from certificates.serials import format_serial
from registry.models import Organization
from utilities.csv_upload import CsvUploadRecord
from utilities.display import count_text

MWH_DECIMALS = 3
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024  # a correction's evidence file


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


class IntervalReadingQuerySet(models.QuerySet):
    def with_outcome(self) -> "IntervalReadingQuerySet":
        """Each reading with what became of it, as the API lists it: `status`, "issued" once its month's report is
        issued (a reading of 0 Wh issues no certificate, but its month is issued all the same), else "submitted";
        and `certificate_serial`, the serial base of the certificate issued for its interval (None before, and
        for 0 Wh). Read, not kept: an issuance writes no reading (bench/hourly_issuance.py: updating each of a
        month's 744,000 readings cost PostgreSQL about 60 µs apiece), and a generator's certificate of an interval
        is its reading's (one issuance per generator and period, and a month's readings are all issued together)."""
        start = Lower("period")
        month = Trunc(start, "month", output_field=models.DateField(), tzinfo=registry_zone())
        issued = GenerationReport.objects.filter(generator=OuterRef("generator"), month=OuterRef("reading_month"),
                                                 status=GenerationReport.Status.ISSUED)
        certificate = Certificate.objects.filter(generator=OuterRef("generator"), period=OuterRef("period"),
                                                 voided_at__isnull=True).values("serial_base")[:1]
        return self.annotate(
            reading_month=month,
            status=Case(When(Exists(issued), then=Value(IntervalReading.Status.ISSUED.value)),
                        default=Value(IntervalReading.Status.SUBMITTED.value)),
            certificate_serial=Subquery(certificate))


class IntervalReading(models.Model):
    """A granular generator's metered output for one interval of at most an hour (certificates.periods:
    interval_refusal), in Wh, uploaded as the monthly data are (issuance.intervals). Its month's report
    (GenerationReport, the month's total) is what staff issue: the issuance run issues one certificate
    per interval of it with Wh (issuance.services). What became of a reading is read from its month's report
    and the generator's certificates (IntervalReadingQuerySet.with_outcome), never written to it.

    No two of a generator's intervals overlap (an exclusion constraint); a reading is never replaced."""

    class Status(models.TextChoices):  # what with_outcome() reads
        SUBMITTED = "submitted", "Submitted"
        ISSUED = "issued", "Issued"

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="interval_readings")
    period = ProductionPeriodField(help_text="The interval: [start, end), at most an hour.")
    wh = models.PositiveBigIntegerField("Wh")
    upload = models.ForeignKey(GenerationUpload, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="interval_readings")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = IntervalReadingQuerySet.as_manager()

    class Meta:
        ordering = ["generator_id", "period"]
        constraints = [
            ExclusionConstraint(name="interval_reading_no_overlap",
                                expressions=[("generator", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)]),
            models.CheckConstraint(condition=Q(period__lower_inf=False, period__upper_inf=False,
                                               period__lower_inc=True, period__upper_inc=False, period__isempty=False),
                                   name="interval_reading_period_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.generator.code} {self.period}: {self.wh:,} Wh"


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
    # The generator's debit (certificates owed by a correction's shortfall) before this month, and what
    # this month paid of it before anything was issued.
    debit_in = models.PositiveIntegerField("debit before", default=0)
    debit_paid = models.PositiveIntegerField("debit paid", default=0)
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
            models.CheckConstraint(condition=Q(mwh=models.F("quantity") + models.F("debit_paid") + models.F("carry_out")
                                               - models.F("carry_in")),
                                   name="issuance_conserves_mwh"),
            models.CheckConstraint(condition=Q(debit_paid__lte=models.F("debit_in")),
                                   name="issuance_debit_paid_is_owed"),
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


def correction_evidence_path(correction: "Correction", filename: str) -> str:
    """Stored as uploads are: under the requesting organization, by a random name (the original
    name is kept in `evidence_name`)."""
    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"correction-evidence/{correction.organization_id}/{uuid.uuid4().hex}{suffix}"


class CorrectionQuerySet(models.QuerySet):
    def visible_to(self, organization: Organization) -> "CorrectionQuerySet":
        """A correction is its generator owner's, and the requesting reporter's."""
        return self.filter(Q(generator__organization=organization) | Q(organization=organization))


class Correction(models.Model):
    """A prior period adjustment: a corrected total for an issued month, requested by a corrected
    upload or by the owner's managers with their evidence, then approved or refused by registry staff.

    Approved, its difference goes through the carry rule (issuance.arithmetic.adjusted_quantity)
    from the generator's carry and debit at that moment (those left by `follows`, its latest issuance,
    and any correction approved after it): more generation first pays the generator's debit, the rest
    issued as a new certificate of the month (`certificate`, its own serial range); less generation is a
    shortfall, owed back from the generator's next issuances (its debit) or voided from certificates
    of the month its owner still holds. The database holds the identity:
    difference + carry in = quantity + debit paid - shortfall + carry out, and
    debit out = debit in - debit paid + shortfall - voided, never negative.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        REFUSED = "refused", "Refused"

    class Shortfall(models.TextChoices):
        DEBIT = "debit", "Owed from the generator's next issuances"
        VOID = "void", "Voided from certificates its owner holds"

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="corrections")
    month = models.DateField()
    issuance = models.ForeignKey(Issuance, on_delete=models.PROTECT, related_name="corrections")
    mwh_before = models.DecimalField("MWh before", max_digits=15, decimal_places=MWH_DECIMALS)
    mwh_after = models.DecimalField("corrected MWh", max_digits=15, decimal_places=MWH_DECIMALS)
    difference = models.DecimalField("difference (MWh)", max_digits=16, decimal_places=MWH_DECIMALS)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="corrections_requested")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    upload = models.ForeignKey(GenerationUpload, on_delete=models.PROTECT, null=True, blank=True,
                               related_name="corrections")
    evidence = models.FileField(upload_to=correction_evidence_path, blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    note = models.TextField("evidence note", blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.REQUESTED)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    shortfall_by = models.CharField(max_length=8, choices=Shortfall, blank=True)
    # When approved: the generator's latest issuance then, and the correction's place among the generator's
    # approved ones (1, 2, ...): the carry and debit it leaves are the generator's until its next issuance.
    follows = models.ForeignKey(Issuance, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    sequence = models.PositiveIntegerField(null=True, blank=True)
    carry_in = models.DecimalField("MWh carried in", max_digits=4, decimal_places=MWH_DECIMALS, null=True,
                                   blank=True)
    carry_out = models.DecimalField("MWh carried out", max_digits=4, decimal_places=MWH_DECIMALS, null=True,
                                    blank=True)
    quantity = models.PositiveIntegerField("certificates issued", default=0)
    certificate = models.OneToOneField(Certificate, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="correction")
    debit_in = models.PositiveIntegerField(default=0)
    debit_paid = models.PositiveIntegerField(default=0)
    shortfall = models.PositiveIntegerField(default=0)
    voided = models.PositiveIntegerField(default=0)
    debit_out = models.PositiveIntegerField(default=0)

    objects = CorrectionQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            models.UniqueConstraint(fields=["generator", "sequence"], name="correction_sequence_once"),
            models.UniqueConstraint(fields=["generator", "month"], condition=Q(status="requested"),
                                    name="correction_one_open_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="correction_month_first_day"),
            models.CheckConstraint(condition=Q(mwh_after__gte=0) & ~Q(difference=0)
                                   & Q(difference=models.F("mwh_after") - models.F("mwh_before")),
                                   name="correction_difference_is_after_less_before"),
            models.CheckConstraint(condition=Q(status="requested", decided_at__isnull=True, decided_by__isnull=True)
                                   | Q(status__in=["approved", "refused"], decided_at__isnull=False,
                                       decided_by__isnull=False),
                                   name="correction_decided_says_who_and_when"),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(follows__isnull=False, sequence__isnull=False, carry_in__gte=0, carry_in__lt=1, carry_out__gte=0,
                    carry_out__lt=1),
                name="correction_carry_is_a_fraction"),
            models.CheckConstraint(
                condition=Q(status="approved") | Q(quantity=0, debit_in=0, debit_paid=0, shortfall=0, voided=0,
                                                   debit_out=0, certificate__isnull=True, carry_in__isnull=True,
                                                   carry_out__isnull=True, follows__isnull=True,
                                                   sequence__isnull=True),
                name="correction_outcome_only_when_approved"),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(difference=models.F("quantity") + models.F("debit_paid") - models.F("shortfall")
                    + models.F("carry_out") - models.F("carry_in")),
                name="correction_conserves_mwh"),
            models.CheckConstraint(
                condition=Q(debit_out=models.F("debit_in") - models.F("debit_paid") + models.F("shortfall")
                            - models.F("voided"), debit_paid__lte=models.F("debit_in"),
                            voided__lte=models.F("shortfall")),
                name="correction_debit_never_negative"),
            models.CheckConstraint(condition=Q(shortfall=0) | Q(quantity=0, debit_paid=0),
                                   name="correction_credit_or_shortfall"),
            models.CheckConstraint(condition=Q(quantity=0, certificate__isnull=True)
                                   | Q(quantity__gt=0, certificate__isnull=False),
                                   name="correction_certificate_when_quantity"),
            models.CheckConstraint(condition=Q(voided=0) | Q(shortfall_by="void"),
                                   name="correction_voided_when_chosen"),
        ]

    def __str__(self) -> str:
        return f"Correction of {self.generator.code} {self.period}: {self.mwh_before} → {self.mwh_after} MWh"

    @property
    def period(self) -> ProductionPeriod:
        return ProductionPeriod.month_of(self.month)

    @property
    def serial_range(self) -> str:
        """The new certificates' serials, as the dashboard shows a batch."""
        return format_serial(self.certificate.serial_base, 1, self.quantity) if self.certificate else ""

    @property
    def effect(self) -> str:
        """What the correction did, in words: "12 certificates issued", "a shortfall of 6: 4 owed from the
        next issuances, 2 paid", ..."""
        if self.status == self.Status.REQUESTED:
            return "awaiting the registry's decision"
        if self.status == self.Status.REFUSED:
            return f"refused: {self.decision_note}"
        parts = []
        if self.debit_paid:
            parts.append(f"{count_text(self.debit_paid, 'certificate')} owed paid")
        if self.quantity:
            parts.append(f"{count_text(self.quantity, 'certificate')} issued")
        if self.voided:
            parts.append(f"{count_text(self.voided, 'certificate')} voided")
        if self.shortfall > self.voided:
            parts.append(f"{count_text(self.shortfall - self.voided, 'certificate')} owed from the next issuances")
        if not parts:
            parts.append("no whole certificate: the fraction carried")
        return ", ".join(parts) + f"; {self.carry_out} MWh carried"
