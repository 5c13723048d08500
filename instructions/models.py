"""Standing transfers and retirements: an organization's instructions for what happens to the
certificates issued for its generators, applied as each issuance is made (services.instructions_run)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Account
from certificates.models import Certificate, FuelType, Generator
from certificates.periods import ProductionPeriod
from registry.models import Organization
from retirements.models import RetirementOption
from transfers.models import Transfer, destination_label
from utilities.display import number_text

HUNDRED = Decimal(100)


class StandingInstruction(models.Model):
    """What to do with each new issuance of one generator, or of every generator of one fuel the
    organization owns, from a vintage month (until another, if given): move a percentage of it, or
    up to a maximum quantity, to the first of its destinations that can receive.

    Irrevocable: its organization can neither end nor change it; only registry staff lift the flag.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="standing_instructions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="standing_instructions")
    fuel_type = models.CharField(max_length=16, choices=FuelType, blank=True)
    from_vintage = models.DateField(help_text="First day of the first vintage month it applies to.")
    until_vintage = models.DateField(null=True, blank=True,
                                     help_text="First day of the last vintage month it applies to, if it ends.")
    percentage = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    maximum = models.PositiveBigIntegerField("maximum quantity per issuance", null=True, blank=True)
    irrevocable = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+")

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["generator", "status"]),
            models.Index(fields=["organization", "fuel_type", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(generator__isnull=False) & models.Q(fuel_type=""))
                | (models.Q(generator__isnull=True) & ~models.Q(fuel_type="")),
                name="instruction_generator_or_fuel",
            ),
            models.CheckConstraint(
                condition=(models.Q(percentage__isnull=False) & models.Q(maximum__isnull=True)
                           & models.Q(percentage__gt=0) & models.Q(percentage__lte=100))
                | (models.Q(percentage__isnull=True) & models.Q(maximum__isnull=False) & models.Q(maximum__gte=1)),
                name="instruction_percentage_or_maximum",
            ),
            models.CheckConstraint(
                condition=models.Q(until_vintage__isnull=True) | models.Q(until_vintage__gte=models.F("from_vintage")),
                name="instruction_vintages_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(status="active", ended_at__isnull=True)
                | models.Q(status="ended", ended_at__isnull=False),
                name="instruction_ended_when_ended",
            ),
        ]

    def __str__(self) -> str:
        return f"Standing instruction {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def source_label(self) -> str:
        """Whose issuances it takes from: `M805 Prairie Ridge Wind`, or `every wind generator`."""
        if self.generator_id:
            return str(self.generator)
        return f"every {FuelType(self.fuel_type).label.lower()} generator"

    @property
    def share_label(self) -> str:
        """How much of each issuance: `60%` or `up to 1,000`."""
        if self.percentage is not None:
            return f"{self.percentage.normalize():f}%"
        return f"up to {number_text(self.maximum)}"

    @property
    def first_month(self) -> ProductionPeriod:
        """The first vintage month it applies to (from_vintage holds its first day)."""
        return ProductionPeriod.month_of(self.from_vintage)

    @property
    def last_month(self) -> ProductionPeriod | None:
        """The last vintage month it applies to, if it ends."""
        return ProductionPeriod.month_of(self.until_vintage) if self.until_vintage else None

    @property
    def vintages_label(self) -> str:
        return f"{self.first_month} to {self.last_month}" if self.until_vintage else f"from {self.first_month}"

    def applies_to(self, certificate: Certificate, owner_id: int) -> bool:
        """Whether it takes from this issuance, whose generator `owner_id` owns (the one statement
        of the match; the selector narrows the rows it reads, this decides)."""
        if self.organization_id != owner_id:
            return False
        if self.generator_id:
            matches = self.generator_id == certificate.generator_id
        else:
            matches = self.fuel_type == certificate.fuel_type
        return matches and self.covers(certificate.period)

    def covers(self, period: ProductionPeriod) -> bool:
        """Whether a production period (a month, or an hour) falls within its months."""
        return self.first_month.start <= period.start and (self.last_month is None or period.end <= self.last_month.end)

    def quantity_asked(self, issued: int) -> int:
        """What it asks of an issuance of `issued` certificates: a percentage rounds down
        (floor(issued × percentage / 100), in whole hundredths of a percent, so exactly); a maximum
        asks for that many. What it takes is at most what is left (see instructions_run)."""
        if self.percentage is not None:
            return issued * int(self.percentage * 100) // 10_000
        return self.maximum

    def snapshot(self) -> dict:
        """How the ledger records it."""
        return {"instruction": self.pk, "source": self.source_label, "share": self.share_label,
                "vintages": self.vintages_label, "irrevocable": self.irrevocable, "status": self.status,
                "destinations": [destination.label for destination in self.destinations.all()]}


class InstructionDestination(models.Model):
    """Where an instruction sends what it takes, by priority (1 first): one of the organization's
    own active accounts, another organization (a transfer it accepts or rejects, as any other), or
    a retirement into one of the organization's retirement accounts with what it counts toward."""

    class Kind(models.TextChoices):
        OWN_ACCOUNT = "own_account", "One of our active accounts"
        ORGANIZATION = "organization", "Another organization"
        RETIREMENT = "retirement", "Retirement"

    instruction = models.ForeignKey(StandingInstruction, on_delete=models.CASCADE, related_name="destinations")
    priority = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=Kind)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recipient = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    retirement_option = models.ForeignKey(RetirementOption, on_delete=models.PROTECT, null=True, blank=True,
                                          related_name="+")
    compliance_period = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Blank: the vintage's year, for each issuance.")
    beneficiary = models.CharField("beneficiary name", max_length=200, blank=True)

    class Meta:
        ordering = ["instruction", "priority"]
        constraints = [
            models.UniqueConstraint(fields=["instruction", "priority"], name="instruction_destination_priority"),
            models.CheckConstraint(condition=models.Q(priority__gte=1), name="instruction_destination_priority_1"),
            models.CheckConstraint(
                condition=models.Q(kind="own_account", account__isnull=False, recipient__isnull=True,
                                   retirement_option__isnull=True)
                | models.Q(kind="organization", account__isnull=True, recipient__isnull=False,
                           retirement_option__isnull=True)
                | models.Q(kind="retirement", account__isnull=False, recipient__isnull=True,
                           retirement_option__isnull=False),
                name="instruction_destination_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.priority}. {self.label}"

    @property
    def label(self) -> str:
        """Where it sends, worded as a transfer's destination is (transfers.models.destination_label)."""
        kind = {self.Kind.OWN_ACCOUNT: Transfer.Kind.INTERNAL, self.Kind.ORGANIZATION: Transfer.Kind.ORGANIZATION,
                self.Kind.RETIREMENT: Transfer.Kind.RETIREMENT}[self.kind]
        where = destination_label(kind=kind, account=self.account, organization=self.recipient)
        if self.kind == self.Kind.RETIREMENT:
            return f"Retire into {where} toward {self.retirement_option.name}"
        if self.kind == self.Kind.ORGANIZATION:
            return f"{where} (pending until it accepts)"
        return where


class InstructionRun(models.Model):
    """What one instruction did with one issuance: how much it asked for and moved, to which
    destination, by which transfer; or why it was skipped (the certificates stayed where issued)."""

    class Status(models.TextChoices):
        APPLIED = "applied", "Applied"
        SKIPPED = "skipped", "Skipped"

    instruction = models.ForeignKey(StandingInstruction, on_delete=models.PROTECT, related_name="runs")
    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="instruction_runs")
    quantity_asked = models.PositiveBigIntegerField()
    quantity_moved = models.PositiveBigIntegerField()
    destination = models.ForeignKey(InstructionDestination, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(max_length=16, choices=Status)
    message = models.TextField(blank=True)
    # Skipped because no destination could receive (or its creator may no longer move certificates):
    # the organization's managers are emailed, from the instructions.skipped event recorded with the
    # runs (services._skipped_record); the runs' list says so.
    tell_owner = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["instruction", "certificate"], name="instruction_run_once"),
            models.CheckConstraint(condition=models.Q(quantity_moved__lte=models.F("quantity_asked")),
                                   name="instruction_run_moves_at_most_asked"),
            models.CheckConstraint(
                condition=models.Q(status="applied", transfer__isnull=False, quantity_moved__gt=0)
                | models.Q(status="skipped", transfer__isnull=True, quantity_moved=0),
                name="instruction_run_applied_with_transfer",
            ),
        ]

    def __str__(self) -> str:
        return f"Run of instruction {self.instruction_id} on {self.certificate_id}"
