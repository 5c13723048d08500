import datetime
from typing import NamedTuple

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import ArrayField, BigIntegerRangeField, DateRangeField, RangeOperators
from django.db import models
from django.utils import timezone

from accounts.models import Account
from registry.models import Organization, TrackingSystem
from utilities.display import date_text

from .periods import Lower, ProductionPeriod, ProductionPeriodField, StartHour, Upper
from .serials import format_serial
from .units import Unit, unit_expression


class FuelType(models.TextChoices):
    WIND = "wind", "Wind"
    SOLAR = "solar", "Solar"
    HYDRO = "hydro", "Hydro"
    BIOMASS = "biomass", "Biomass"
    LANDFILL_GAS = "landfill_gas", "Landfill gas"


class Technology(models.TextChoices):
    """How a generator turns its fuel into electricity: a short list, each under one fuel (FUEL_TECHNOLOGIES)."""

    ONSHORE_WIND = "onshore_wind", "Onshore wind"
    OFFSHORE_WIND = "offshore_wind", "Offshore wind"
    SOLAR_PV = "solar_pv", "Solar photovoltaic"
    SOLAR_THERMAL = "solar_thermal", "Concentrating solar thermal"
    RUN_OF_RIVER = "run_of_river", "Run-of-river hydro"
    RESERVOIR_HYDRO = "reservoir_hydro", "Reservoir hydro"
    BIOMASS_STEAM = "biomass_steam", "Biomass steam turbine"
    ANAEROBIC_DIGESTION = "anaerobic_digestion", "Anaerobic digester"
    LANDFILL_GAS_ENGINE = "landfill_gas_engine", "Landfill gas engine"
    LANDFILL_GAS_TURBINE = "landfill_gas_turbine", "Landfill gas turbine"


# The technologies each fuel can have: the one definition the form's grouped list and the services' check read.
FUEL_TECHNOLOGIES = {
    FuelType.WIND: [Technology.ONSHORE_WIND, Technology.OFFSHORE_WIND],
    FuelType.SOLAR: [Technology.SOLAR_PV, Technology.SOLAR_THERMAL],
    FuelType.HYDRO: [Technology.RUN_OF_RIVER, Technology.RESERVOIR_HYDRO],
    FuelType.BIOMASS: [Technology.BIOMASS_STEAM, Technology.ANAEROBIC_DIGESTION],
    FuelType.LANDFILL_GAS: [Technology.LANDFILL_GAS_ENGINE, Technology.LANDFILL_GAS_TURBINE],
}


class StateOrProvince(models.TextChoices):
    """Where a generator is: a US state or district, or a Canadian province or territory (postal codes)."""

    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    DC = "DC", "District of Columbia"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"
    AB = "AB", "Alberta"
    BC = "BC", "British Columbia"
    MB = "MB", "Manitoba"
    NB = "NB", "New Brunswick"
    NL = "NL", "Newfoundland and Labrador"
    NS = "NS", "Nova Scotia"
    NT = "NT", "Northwest Territories"
    NU = "NU", "Nunavut"
    ON = "ON", "Ontario"
    PE = "PE", "Prince Edward Island"
    QC = "QC", "Quebec"
    SK = "SK", "Saskatchewan"
    YT = "YT", "Yukon"


class GeneratorQuerySet(models.QuerySet):
    def approved(self) -> "GeneratorQuerySet":
        return self.filter(status=Generator.Status.APPROVED)

    def of(self, organization: Organization) -> "GeneratorQuerySet":
        return self.filter(organization=organization)

    def awaiting_approval(self) -> "GeneratorQuerySet":
        return self.filter(status=Generator.Status.SUBMITTED)


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
    # A participant's generator is given its ID by the registration service (G00001, from a sequence);
    # one onboarded by registry staff keeps the ID they type.
    code = models.CharField("generator ID", max_length=16, unique=True)
    name = models.CharField(max_length=200)
    fuel_type = models.CharField(max_length=16, choices=FuelType)
    technology = models.CharField(max_length=32, choices=Technology, blank=True)
    state = models.CharField("state or province", max_length=2, choices=StateOrProvince)
    eligibilities = ArrayField(models.CharField(max_length=32), default=list, blank=True,
                               verbose_name="eligibilities claimed")
    capacity_mw = models.DecimalField("capacity (MW)", max_digits=8, decimal_places=2, default=0)
    commissioned_on = models.DateField("commercial operation date", null=True, blank=True)
    # Granular (EnergyTag): its generation is reported per interval (an hour, or finer where the registry
    # allows, settings.GRANULAR_INTERVAL_MINUTES) and a certificate is issued per interval, in Wh.
    granular = models.BooleanField("granular (hourly)", default=False,
                                   help_text="Its generation is reported per interval of at most an hour, and a "
                                             "certificate is issued for each interval, in Wh.")
    emissions_factor = models.DecimalField("emissions factor (gCO2e/kWh)", max_digits=8, decimal_places=3,
                                           null=True, blank=True)
    emissions_factor_source = models.CharField("source of the emissions factor", max_length=200, blank=True)
    # Where the registry defines grid areas (a balancing area, a bidding zone): hourly matching retires its
    # certificates only for a consumption site of the same area when both name one (matching.selectors).
    grid_area = models.CharField("grid area", max_length=32, blank=True,
                                 help_text="The grid area it delivers into (e.g. MISO, a bidding zone), as registry "
                                           "staff recorded it; empty: none. Hourly matching pairs it only with "
                                           "consumption sites of the same area when both name one.")
    status = models.CharField(max_length=16, choices=Status, default=Status.DRAFT)
    account = models.ForeignKey(  # where its certificates are issued: an open active account of its owner
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="issuance account",
    )
    review_note = models.TextField(blank=True, help_text="Registry staff's note when they send it back.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    # An import generator (imports): the generator as another tracking system knows it, under its id there
    # (`source_code`), held by that system's stand-in organization. Its certificates come only by import:
    # the issuance services refuse it (certificates_write).
    imported_from = models.ForeignKey(TrackingSystem, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", editable=False)
    source_code = models.CharField("generator ID there", max_length=64, blank=True, editable=False)

    objects = GeneratorQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["status", "submitted_at"])]  # the staff's queue
        constraints = [
            models.CheckConstraint(condition=models.Q(capacity_mw__gte=0), name="generator_capacity_not_negative"),
            models.UniqueConstraint(fields=["imported_from", "source_code"], name="import_generator_once_per_source",
                                    condition=models.Q(imported_from__isnull=False)),
            models.CheckConstraint(
                condition=models.Q(emissions_factor__isnull=True) | models.Q(emissions_factor__gte=0),
                name="generator_emissions_factor_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_under_review(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def capacity_text(self) -> str:
        """The capacity in MW as typed, without trailing zeros: 150, 120.5, 2.25."""
        return f"{self.capacity_mw.normalize():f}"

    @property
    def emissions_factor_text(self) -> str:
        """The emissions factor as typed, with its unit and source: `11.5 gCO2e/kWh (IPCC 2014)`; "" if none."""
        if self.emissions_factor is None:
            return ""
        return f"{self.emissions_factor.normalize():f} gCO2e/kWh ({self.emissions_factor_source})"


class EligibilityGap(NamedTuple):
    """Why an eligibility does not hold on some day of a stretch: it `expired` (its good-through date,
    `day`, is before the stretch's last day) or is `not_yet` valid (it starts on `day`, after the first)."""

    kind: str  # "expired" or "not_yet"
    day: datetime.date

    def __str__(self) -> str:
        return f"expired on {date_text(self.day)}" if self.kind == "expired" else f"valid from {date_text(self.day)}"


class DateRange(models.Func):
    function = "daterange"
    output_field = DateRangeField()


class KeyedSpan(models.Func):
    """The box from (key, low) to (key + 0.5, high): what the two exclusion constraints below index, with
    &&, for "the same key and spans that share a point", in place of btree_gist's (key WITH =, range WITH &&).
    Two such boxes overlap exactly when their keys are equal (keys are whole numbers, so key + 0.5 never reaches
    the next) and the closed spans [low, high] share a point. PostgreSQL's R-tree of boxes takes half the time
    per row of btree_gist's two columns, which were the two costliest index entries of an issued certificate
    (744,000 rows: 27.2 s and 26.0 s, 13.8 s and 14.6 s as boxes; bench/README.md, "Hourly issuance").

    Exact while the numbers are whole and at most EXACT_UP_TO, which a float8 holds exactly; the geometric
    types' tolerance (1e-6) never joins two different whole numbers."""
    EXACT_UP_TO = 2**53
    arity = 3  # key, low, high
    output_field = models.Field()

    def as_sql(self, compiler, connection, **extra_context):
        (key, key_params), (low, low_params), (high, high_params) = map(compiler.compile,
                                                                        self.get_source_expressions())
        return (f"box(point({key}, {low}), point({key} + 0.5, {high}))",
                (*key_params, *low_params, *key_params, *high_params))


class Microseconds(models.Func):
    """A moment as whole microseconds since 1970-01-01 UTC, a KeyedSpan's numbers for a period (below 2**53
    until the year 2255). Unlike extract(epoch FROM a timestamptz), immutable, as an index's expression must be."""
    template = "(extract(epoch FROM %(expressions)s - '1970-01-01T00:00:00Z'::timestamptz) * 1000000)"
    output_field = models.DecimalField()


class GeneratorEligibilityQuerySet(models.QuerySet):
    def reminder_due(self, *, today: datetime.date, days: int) -> "GeneratorEligibilityQuerySet":
        """Those whose good-through date is within `days` days from `today` (today included) and whose
        staff have not been reminded of it yet."""
        return self.filter(good_through__gte=today, good_through__lte=today + datetime.timedelta(days=days),
                           reminded_on__isnull=True)


class GeneratorEligibility(models.Model):
    """A generator's eligibility for a program or certification, as registry staff recorded it: its
    certification number (a state order, a certificate), the day it starts, the day staff verified it,
    and the last day it holds (good through; none: no end). The certificates issued for a production
    period carry the names of the eligibilities that hold on every day of it (`covers`).

    The generator's own `eligibilities` are what its organization claims; staff review a claim and
    record it here, and only what is recorded here is carried by certificates."""

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="recorded_eligibilities")
    name = models.CharField("eligibility", max_length=32,
                            help_text="The program or certification, as certificates carry it, e.g. MN RES.")
    certification_number = models.CharField(max_length=64, blank=True,
                                            help_text="E.g. the state's order or certificate number.")
    start_date = models.DateField(help_text="The first day it holds.")
    verified_on = models.DateField("verified", null=True, blank=True,
                                   help_text="When registry staff last verified it.")
    good_through = models.DateField(null=True, blank=True,
                                    help_text="The last day it holds; empty: no end.")
    reminded_on = models.DateField(null=True, blank=True, editable=False,
                                   help_text="When registry staff were reminded of its good-through date.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = GeneratorEligibilityQuerySet.as_manager()

    class Meta:
        ordering = ["generator_id", "pk"]  # as recorded: the order certificates carry them in
        verbose_name = "generator eligibility"
        verbose_name_plural = "generator eligibilities"
        constraints = [
            models.CheckConstraint(condition=models.Q(good_through__isnull=True)
                                   | models.Q(good_through__gte=models.F("start_date")),
                                   name="eligibility_good_through_after_start"),
            # One record of a name at a time for a generator: a renewal starts after the last one ends.
            ExclusionConstraint(name="eligibility_once_at_a_time", expressions=[
                ("generator", RangeOperators.EQUAL), ("name", RangeOperators.EQUAL),
                (DateRange("start_date", "good_through", models.Value("[]")), RangeOperators.OVERLAPS)]),
        ]
        indexes = [models.Index(fields=["good_through"], condition=models.Q(reminded_on__isnull=True),
                                name="eligibility_reminder_due")]

    def __str__(self) -> str:
        return f"{self.name} ({self.generator.code})"

    def gap(self, first_day: datetime.date, last_day: datetime.date | None = None) -> EligibilityGap | None:
        """Why it does not hold on every day from `first_day` to `last_day` (both included; one day if no
        `last_day`); None when it does. The one rule of an eligibility's validity: a stretch it covers
        only in part (it starts, or ends, inside it) is not covered."""
        if self.start_date > first_day:
            return EligibilityGap("not_yet", self.start_date)
        if self.good_through is not None and self.good_through < (last_day or first_day):
            return EligibilityGap("expired", self.good_through)
        return None

    def gap_in(self, period: ProductionPeriod) -> EligibilityGap | None:
        """gap() over the days of a production period (in the registry's zone)."""
        return self.gap(period.first_day, period.last_day)

    def covers(self, period: ProductionPeriod) -> bool:
        """Whether certificates issued for `period` carry it: it holds on every day of the period."""
        return self.gap_in(period) is None


def eligibility_names(eligibilities: list[GeneratorEligibility], period: ProductionPeriod) -> list[str]:
    """The names certificates issued for `period` carry, of a generator's recorded `eligibilities`
    (in their recorded order, each name once)."""
    return list(dict.fromkeys(eligibility.name for eligibility in eligibilities if eligibility.covers(period)))


class GeneratorAwaitingApproval(Generator):
    """The registry staff's queue: generators submitted by participants, waiting for approval."""

    class Meta:
        proxy = True
        verbose_name = "generator awaiting approval"
        verbose_name_plural = "generators awaiting approval"


class GeneratorReview(models.Model):
    """A manager's confirmation, in the annual review (certificates.reviews), that an approved generator's
    registration is true, complete and correct for `year`. Once a year: a database constraint."""

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="annual_reviews")
    year = models.PositiveSmallIntegerField()
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["generator", "-year"]
        constraints = [models.UniqueConstraint(fields=["generator", "year"], name="generator_reviewed_once_a_year")]

    def __str__(self) -> str:
        return f"{self.generator.code} confirmed for {self.year}"


class GeneratorOverdueForReview(Generator):
    """Registry staff's list: approved generators whose owners have not confirmed them by this year's
    review deadline (their organizations cannot transfer, retire or upload until they do)."""

    class Meta:
        proxy = True
        verbose_name = "generator overdue for review"
        verbose_name_plural = "generators overdue for review"


class Certificate(models.Model):
    """What the registry issued for one generator and one production period (its vintage: a month, in
    MWh, or a granular generator's interval of at most an hour, in Wh): serials 1..quantity."""

    generator = models.ForeignKey(Generator, on_delete=models.PROTECT, related_name="certificates")
    period = ProductionPeriodField(help_text="When it was produced: [start, end), a month in the registry's zone "
                                             "or an interval of at most an hour.")
    quantity = models.PositiveBigIntegerField()  # Wh for an interval: an hour of a 3 GW plant is over 2**31
    serial_base = models.CharField(max_length=64)  # unique: Meta (no LIKE index: nothing searches by prefix)
    fuel_type = models.CharField(max_length=16, choices=FuelType)
    state = models.CharField(max_length=2)
    eligibilities = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    # Not indexed: nothing reads certificates by who issued them, and a user is never deleted (PROTECT: the
    # admin's attempt scans the table to refuse it); an entry per certificate would be written and never read.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # Set once, when its issuance is rolled back (issuance.corrections) and every batch of it voided: the
    # only change the database lets a certificate make (certificates migration 0010's trigger), so that
    # the period can be issued again.
    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Issued by a prior period adjustment (issuance.adjustments): more certificates of a period issued
    # already, with their own serial range; the period's first certificate keeps it.
    adjustment = models.BooleanField(default=False, editable=False)
    # Imported by conversion (imports): the tracking system it came from and its serial number there
    # (`ABC-MI-01-2009-123-1 to 100`), shown with its own serials wherever the certificate is. The
    # imports app's own constraint keeps a source's serials from coming in twice.
    imported_from = models.ForeignKey(TrackingSystem, on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="+", editable=False, db_index=False)  # Meta: where set
    original_serial = models.CharField(max_length=200, blank=True, editable=False)
    # An interval's certificate expires (settings.CERTIFICATE_EXPIRY_YEARS after its end): beat expires its
    # batches then (certificates.services.certificates_expire). A month's has none.
    expires_at = models.DateTimeField(null=True, blank=True)
    emissions_factor = models.DecimalField("emissions factor (gCO2e/kWh)", max_digits=8, decimal_places=3,
                                           null=True, blank=True)
    emissions_factor_source = models.CharField(max_length=200, blank=True)
    # What one of its certificates is (certificates.units): Wh for an interval of at most an hour, MWh for a
    # month. Computed by the database from the period, so every sum across certificates reads it by value.
    unit = models.GeneratedField(expression=unit_expression(), db_persist=True,
                                 output_field=models.CharField(max_length=3, choices=Unit))

    class Meta:
        ordering = ["period", "serial_base"]
        constraints = [
            # One issuance per generator and period: no two of a generator's periods overlap (an hour
            # inside an issued month neither), a voided one's and a correction's aside. An import generator's
            # periods may come in several imports (parts of the source's range).
            # (generator WITH =, period WITH &&), as a box (KeyedSpan).
            ExclusionConstraint(name="certificate_once_per_period",
                                expressions=[(KeyedSpan("generator", Microseconds(Lower("period")),
                                                        Microseconds(Upper("period")) - 1), RangeOperators.OVERLAPS)],
                                condition=models.Q(voided_at__isnull=True, adjustment=False,
                                                   imported_from__isnull=True)),
            models.UniqueConstraint(fields=["serial_base"], name="certificate_serial_base_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="certificate_quantity_positive"),
            models.CheckConstraint(condition=models.Q(period__lower_inf=False, period__upper_inf=False,
                                                      period__lower_inc=True, period__upper_inc=False,
                                                      period__isempty=False),
                                   name="certificate_period_bounded"),
        ]
        indexes = [models.Index(fields=["period"]), models.Index(fields=["fuel_type", "state"]),
                   models.Index(fields=["expires_at"], condition=models.Q(expires_at__isnull=False),
                                name="certificate_expires"),
                   # The hour of day a period starts in, in the registry's zone, then the period: the dashboard's
                   # and the API's hour filter, with an interval range or not (certificates.filters; the range
                   # alone is the index on the period's: bench/hourly_filters.py, in bench/README.md).
                   models.Index(StartHour("period"), "period", name="certificate_start_hour"),
                   # Only the imported ones: an index entry for each certificate issued here would be an entry
                   # written and never read (744,000 for a month of 1,000 granular devices: bench/hourly_issuance.py).
                   models.Index(fields=["imported_from"], condition=models.Q(imported_from__isnull=False),
                                name="certificate_imported_from")]

    def __str__(self) -> str:
        return self.serial_base

    @property
    def origin_text(self) -> str:
        """Where an imported certificate came from, as every page, statement and email says it:
        "Imported from M-RETS, serial MIRECS-123-MI-01-2009-123-1 to 100"; "" for one issued here."""
        return origin_text(self.imported_from.name, self.original_serial) if self.imported_from_id else ""


def origin_text(tracking_system_name: str, original_serial: str) -> str:
    """An imported certificate's origin in words (Certificate.origin_text), from its two facts as read."""
    return f"Imported from {tracking_system_name}, serial {original_serial}"


class Int8Range(models.Func):
    function = "int8range"
    output_field = BigIntegerRangeField()


class BatchQuerySet(models.QuerySet):
    def visible_to(self, organization: Organization) -> "BatchQuerySet":
        return self.filter(account__organization=organization)

    def live(self) -> "BatchQuerySet":
        """The batches that hold certificates: neither superseded (split) nor voided."""
        return self.exclude(status__in=(CertificateBatch.Status.SUPERSEDED, CertificateBatch.Status.VOIDED))


class CertificateBatch(models.Model):
    """A contiguous serial range of one certificate, in one account, in one status.

    Live batches of a certificate tile 1..quantity exactly, with its voided ones (the exclusion
    constraint forbids overlap; verify_ledger checks there is no gap). A split supersedes the batch
    and its children point to it; superseded batches are kept for lineage. Retired, voided and
    expired batches are final: the database refuses any change to them. A voided batch (a rolled-back
    issuance, a correction's debit) holds nothing: it counts in no balance, tab or statistic.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Pending"
        RETIRED = "retired", "Retired"
        EXPORTED = "exported", "Exported"
        SUPERSEDED = "superseded", "Superseded"
        VOIDED = "voided", "Voided"
        EXPIRED = "expired", "Expired"

    certificate = models.ForeignKey(Certificate, on_delete=models.PROTECT, related_name="batches")
    account = models.ForeignKey(  # indexed by (account, status)
        Account, on_delete=models.PROTECT, related_name="batches", db_index=False
    )
    serial_start = models.BigIntegerField()
    serial_end = models.BigIntegerField()
    quantity = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    parent = models.ForeignKey(  # indexed where set (Meta): an issued batch has none
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["certificate__period", "certificate_id", "serial_start"]
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
            # (certificate WITH =, [serial_start, serial_end] WITH &&), as a box (KeyedSpan), whose numbers are
            # exact up to 2**53: 9,007 TWh in Wh, a thousand times the yearly output of the largest plant.
            models.CheckConstraint(condition=models.Q(serial_end__lte=KeyedSpan.EXACT_UP_TO),
                                   name="batch_serial_end_exact"),
            ExclusionConstraint(
                name="batch_live_ranges_do_not_overlap",
                expressions=[(KeyedSpan("certificate", "serial_start", "serial_end"), RangeOperators.OVERLAPS)],
                condition=~models.Q(status="superseded"),
            ),
        ]
        indexes = [
            # The quantity too: an organization's totals of a tab (batches_totals) and its accounts' balances
            # are read from the index alone (1,000,000 batches: 0.46 s instead of 1.9 s, bench/scale_reads.py).
            models.Index(fields=["account", "status"], include=["quantity"], name="batch_account_status"),
            models.Index(fields=["status", "certificate"]),
            models.Index(fields=["parent"], condition=models.Q(parent__isnull=False), name="batch_parent"),
        ]

    def __str__(self) -> str:
        return self.serial_number

    @property
    def serial_number(self) -> str:
        return format_serial(self.certificate.serial_base, self.serial_start, self.serial_end)

    def snapshot(self) -> dict:
        """How the ledger records a batch in its before and after."""
        return {key: getattr(self, attribute) for key, attribute in SNAPSHOT.items()}


# The ledger's record of a batch: key -> column (attribute) name (snapshot()).
SNAPSHOT = {"batch": "id", "certificate": "certificate_id", "account": "account_id", "serial_start": "serial_start",
            "serial_end": "serial_end", "quantity": "quantity", "status": "status", "parent": "parent_id"}
