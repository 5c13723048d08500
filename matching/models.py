"""Hourly (24/7) matching: a consumer's consumption sites, their metered consumption per interval, and
the matching statements that retire held hourly certificates against it, hour by hour (issue 33, item 4).

A matching statement IS a retirement (retirements.Retirement, with the option MATCHING_OPTION): its
certificates are retired through the one retirement rule, it has the retirement's reference, and the
public log takes it as it takes any retirement. What the statement adds is its own record: each
hour's consumption and what was matched to it, with the serials, and that record's digest."""

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from certificates.periods import ProductionPeriodField
from registry.models import Organization
from retirements.models import Retirement

# The retirement option every match retires with (matching.services.matching_option makes it).
MATCHING_OPTION = "24/7 hourly matching"


class ConsumptionSite(models.Model):
    """A place whose electricity use an organization matches with hourly certificates: its meter's
    site ID (the consumption file names it), a name, and its grid area where the registry has areas."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="consumption_sites")
    code = models.CharField("site ID", max_length=32,
                            help_text="The ID the consumption files name the site by, e.g. its meter number.")
    name = models.CharField(max_length=200)
    grid_area = models.CharField("grid area", max_length=32, blank=True,
                                 help_text="The grid area it draws from (e.g. MISO); empty: none. Only certificates "
                                           "of generators of the same area, or of none, are matched to it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organization", "code"]
        constraints = [models.UniqueConstraint(Upper("code"), "organization", name="consumption_site_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ConsumptionReading(models.Model):
    """A site's metered consumption in one interval (within one hour of the registry's clock: every 5,
    15, 30 or 60 minutes, as the meter reads; issuance.intervals.consumption_interval_refusal), in Wh,
    and how much of it matching statements have matched so far (an hour's matched Wh are counted against
    its readings earliest first). No two of a site's intervals overlap, and never more is matched
    than was consumed: the database holds both."""

    site = models.ForeignKey(ConsumptionSite, on_delete=models.PROTECT, related_name="readings")
    period = ProductionPeriodField(help_text="The interval: [start, end), at most an hour.")
    wh = models.PositiveBigIntegerField()
    matched_wh = models.BigIntegerField(default=0)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["site", "period"]
        constraints = [
            ExclusionConstraint(name="consumption_reading_no_overlap",
                                expressions=[("site", RangeOperators.EQUAL), ("period", RangeOperators.OVERLAPS)]),
            models.CheckConstraint(condition=models.Q(matched_wh__gte=0, matched_wh__lte=models.F("wh")),
                                   name="consumption_matched_at_most_consumed"),
            models.CheckConstraint(condition=models.Q(period__lower_inf=False, period__upper_inf=False,
                                                      period__lower_inc=True, period__upper_inc=False,
                                                      period__isempty=False),
                                   name="consumption_reading_period_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.site.code} {self.period}: {self.wh} Wh"

    @property
    def open_wh(self) -> int:
        """What is left to match."""
        return self.wh - self.matched_wh


class MatchingStatement(models.Model):
    """What one "Match" did: its retirement (the certificates, their public reference and their place
    in the public log) and its record (each hour's consumption, what earlier statements had matched,
    and what this one matched, with the serials), written once with it and never changed."""

    retirement = models.OneToOneField(Retirement, on_delete=models.PROTECT, primary_key=True,
                                      related_name="matching_statement")
    site = models.ForeignKey(ConsumptionSite, on_delete=models.PROTECT, related_name="statements")
    record = models.JSONField(editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-retirement_id"]

    def __str__(self) -> str:
        return f"Matching statement {self.retirement.reference}"

    @property
    def reference(self) -> str:
        return self.retirement.reference
