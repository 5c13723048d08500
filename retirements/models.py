"""What a retirement counts toward (RetirementOption, kept by staff) and a retirement's details and
public reference (Retirement, one per retirement transfer). The tables keep the names they had in
the transfers app."""

import re

from django.db import models

from programs.models import Program

# The reference's alphabet, length and generator live with the migrations that name them (transfers).
from transfers.models import REFERENCE_ALPHABET, REFERENCE_LENGTH, Transfer, retirement_reference  # noqa: F401


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
    registry_only = models.BooleanField(
        "registry's own", default=False,
        help_text="Made by the registry for its own retirements (hourly matching's Match retires with it): never "
                  "offered to users, and refused if one chooses it.")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="retirement_options",
                                help_text="The program retirements with this option count toward, if one.")

    class Meta:
        db_table = "transfers_retirementoption"  # the table it had in the transfers app
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def counts_toward(self) -> str:
        return counts_toward_text(name=self.name, type_label=self.get_type_display(),
                                  reason_label=self.get_reason_display(), state=self.state)

    @property
    def withheld_text(self) -> str:
        """Why a user may not retire with this option, the registry's own (registry_only)."""
        return (f"{self.name} is the registry's own option: only its hourly matching (Match, on the Matching "
                "page) retires with it. Choose another option.")

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


class Retirement(models.Model):
    """The details of a retirement transfer: what it counts toward and for whom, and its public
    reference. Written with the transfer, never changed after (except whether it is private, and its
    public record, frozen once)."""

    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, primary_key=True, related_name="retirement")
    option = models.ForeignKey(RetirementOption, on_delete=models.PROTECT, related_name="retirements")
    compliance_period = models.PositiveSmallIntegerField(null=True, blank=True)
    period_start = models.DateField("reporting period start", null=True, blank=True)
    period_end = models.DateField("reporting period end", null=True, blank=True)
    beneficiary = models.CharField("beneficiary name", max_length=200, blank=True)
    reference = models.CharField(max_length=REFERENCE_LENGTH, unique=True, default=retirement_reference,
                                 editable=False)
    is_private = models.BooleanField("private", default=False)
    # The public record as it was first published (retirement_records_freeze, when the public log
    # takes the retirement): from then on the record the statement, the verification page and the
    # log give, whatever is renamed later. Set once; the database refuses to change it (0003).
    record = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "transfers_retirement"  # the table it had in the transfers app
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_start__isnull=True) | models.Q(period_end__isnull=True)
                | models.Q(period_start__lte=models.F("period_end")),
                name="retirement_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Retirement {self.reference}"

    @staticmethod
    def counting_toward(programs) -> models.Q:
        """The retirements that count toward `programs` (a queryset of programs): by their
        option's program, or by their retirement account's (a program account, programs.ProgramAccount).
        The one statement of the rule (the regulators' scope reads it: retirements.selectors)."""
        return (models.Q(option__program__in=programs)
                | models.Q(transfer__destination_account__program_link__program__in=programs))

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

    # Under this key the transfer's initiating ledger event records snapshot() (see transfer_write).
    ledger_key = "retirement"

    def snapshot(self) -> dict:
        """The details as the ledger records them."""
        return {"reference": self.reference, "option": self.option.name, "compliance_period": self.compliance_period,
                "period_start": self.period_start.isoformat() if self.period_start else None,
                "period_end": self.period_end.isoformat() if self.period_end else None,
                "beneficiary": self.beneficiary}
