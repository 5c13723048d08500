"""The public statistics' summary tables: certificates issued, transferred, retired and exported, in
MWh (a Decimal: monthly RECs and hourly certificates' Wh converted exactly, certificates.units; the
public compare energy, and a count of certificates of both units would add Wh to MWh), by month and
by what the public may know of them. Never by organization or account. Kept current by the
public_stats consumer of the domain events (services.py), rebuilt from the ledger's rows by
`manage.py rebuild_public_stats`.

A certificate has any number of eligibilities, so they have a table of their own: MonthlyTotal
counts each certificate once; EligibilityTotal counts it once under each eligibility it carries (a
certificate with none is in no row of it)."""

from django.db import models

from certificates.units import MWH_DIGITS, MWH_PLACES
from programs.models import Program

from .values import Activity

DIMENSIONS = ["month", "activity", "fuel", "technology", "state", "program"]


class Total(models.Model):
    month = models.DateField(help_text="The month it happened in (its first day), in the registry's time zone.")
    activity = models.CharField(max_length=16, choices=Activity)
    fuel = models.CharField(max_length=16)
    technology = models.CharField(max_length=32, blank=True)
    state = models.CharField("state or province", max_length=2)
    # The program a retirement counted toward (its option's), if one; none for the other activities.
    program = models.ForeignKey(Program, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # MWh, exact (certificates.units): a monthly REC is 1 MWh, an hourly certificate's Wh a millionth of one.
    quantity = models.DecimalField("MWh", max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, default=0)

    class Meta:
        abstract = True


class MonthlyTotal(Total):
    """The certificates of one (month, activity, fuel, technology, state, program)."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=DIMENSIONS, name="monthly_total_once", nulls_distinct=False),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="monthly_total_not_negative"),
        ]
        ordering = ["month", "activity"]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y} {self.activity} {self.fuel} {self.state}: {self.quantity}"


class EligibilityTotal(Total):
    """The certificates of one (month, activity, fuel, technology, state, program) that carry one
    eligibility."""

    eligibility = models.CharField(max_length=32)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=[*DIMENSIONS, "eligibility"], name="eligibility_total_once",
                                    nulls_distinct=False),
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="eligibility_total_not_negative"),
        ]
        indexes = [models.Index(fields=["eligibility", "month"])]
        ordering = ["month", "activity"]

    def __str__(self) -> str:
        return f"{self.month:%m/%Y} {self.activity} {self.eligibility}: {self.quantity}"
