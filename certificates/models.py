from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, BigIntegerRangeField, RangeOperators
from django.db import models
from django.utils import timezone

from accounts.models import Account
from registry.models import Organization

from .serials import format_serial


class FuelType(models.TextChoices):
    WIND = "wind", "Wind"
    SOLAR = "solar", "Solar"
    HYDRO = "hydro", "Hydro"
    BIOMASS = "biomass", "Biomass"
    LANDFILL_GAS = "landfill_gas", "Landfill gas"


class GeneratorQuerySet(models.QuerySet):
    def approved(self) -> "GeneratorQuerySet":
        return self.filter(status=Generator.Status.APPROVED)


class Generator(models.Model):
    """A generating unit. A participant registers it (draft, then submitted); registry staff approve
    it or send it back with a note. Certificates are issued only for an approved generator."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted for approval"
        APPROVED = "approved", "Approved"
        RETURNED = "returned", "Sent back"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="generators"
    )
    code = models.CharField("generator ID", max_length=16, unique=True)
    name = models.CharField(max_length=200)
    fuel_type = models.CharField(max_length=16, choices=FuelType)
    state = models.CharField("state or province", max_length=2)
    eligibilities = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    capacity_mw = models.DecimalField(max_digits=8, decimal_places=2, default=0)
    commissioned_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    account = models.ForeignKey(  # where its certificates are issued: an open active account of its owner
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="issuance account",
    )

    objects = GeneratorQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Certificate(models.Model):
    """What the registry issued for one generator and one vintage month: serials 1..quantity."""

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="certificates")
    vintage = models.DateField(help_text="First day of the vintage month.")
    quantity = models.PositiveIntegerField()
    serial_base = models.CharField(max_length=64, unique=True)
    fuel_type = models.CharField(max_length=16, choices=FuelType)
    state = models.CharField(max_length=2)
    eligibilities = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["vintage", "serial_base"]
        constraints = [
            models.UniqueConstraint(fields=["generator", "vintage"], name="certificate_once_per_vintage"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="certificate_quantity_positive"),
            models.CheckConstraint(condition=models.Q(vintage__day=1), name="certificate_vintage_first_of_month"),
        ]
        indexes = [models.Index(fields=["vintage"]), models.Index(fields=["fuel_type", "state"])]

    def __str__(self) -> str:
        return self.serial_base


class Int8Range(models.Func):
    function = "int8range"
    output_field = BigIntegerRangeField()


class BatchQuerySet(models.QuerySet):
    def visible_to(self, organization: Organization) -> "BatchQuerySet":
        return self.filter(account__organization=organization)

    def live(self) -> "BatchQuerySet":
        return self.exclude(status=CertificateBatch.Status.SUPERSEDED)


class CertificateBatch(models.Model):
    """A contiguous serial range of one certificate, in one account, in one status.

    Live batches of a certificate tile 1..quantity exactly (the exclusion constraint forbids
    overlap; verify_ledger checks there is no gap). A split supersedes the batch and its children
    point to it; superseded batches are kept for lineage.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending"
        RETIRED = "retired", "Retired"
        EXPORTED = "exported", "Exported"
        SUPERSEDED = "superseded", "Superseded"

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="batches")
    account = models.ForeignKey(  # indexed by (account, status)
        Account, on_delete=models.PROTECT, related_name="batches", db_index=False
    )
    serial_start = models.BigIntegerField()
    serial_end = models.BigIntegerField()
    quantity = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["certificate__vintage", "certificate_id", "serial_start"]
        verbose_name_plural = "certificate batches"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(serial_end__gte=models.F("serial_start")), name="batch_range_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(serial_start__gte=1), name="batch_serial_start_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity=models.F("serial_end") - models.F("serial_start") + 1),
                name="batch_quantity_matches_range",
            ),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="batch_quantity_positive"),
            ExclusionConstraint(
                name="batch_live_ranges_do_not_overlap",
                expressions=[
                    ("certificate", RangeOperators.EQUAL),
                    (Int8Range("serial_start", "serial_end", models.Value("[]")), RangeOperators.OVERLAPS),
                ],
                condition=~models.Q(status="superseded"),
            ),
        ]
        indexes = [
            models.Index(fields=["account", "status"]),
            models.Index(fields=["status", "certificate"]),
        ]

    def __str__(self) -> str:
        return self.serial_number

    @property
    def serial_number(self) -> str:
        return format_serial(self.certificate.serial_base, self.serial_start, self.serial_end)

    def snapshot(self) -> dict:
        """How the ledger records a batch in its before and after."""
        return {key: getattr(self, attribute) for key, attribute in SNAPSHOT.items()}

    @staticmethod
    def snapshot_sql(alias: str, prefix: str = "", **literals: str) -> str:
        """snapshot() as PostgreSQL builds it (jsonb), from the columns `prefix` + column name of the
        row `alias`, some keys given as literals (status="'active'"): for ledger events written by SQL
        in the statement of the change."""
        pairs = ", ".join(f"'{key}', {literals.get(key, f'{alias}.{prefix}{attribute}')}"
                          for key, attribute in SNAPSHOT.items())
        return f"jsonb_build_object({pairs})"


# The ledger's record of a batch: key -> column (attribute) name; snapshot() and snapshot_sql() agree.
SNAPSHOT = {"batch": "id", "certificate": "certificate_id", "account": "account_id", "serial_start": "serial_start",
            "serial_end": "serial_end", "quantity": "quantity", "status": "status", "parent": "parent_id"}
