"""Compliance and voluntary programs (a state's RPS, a utility's green pricing program), kept by
registry staff as data: what a retirement option counts toward, and the rules on the certificates
it accepts (ProgramRules, one version per change, never edited)."""

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from certificates.models import FuelType, StateOrProvince, Technology
from certificates.periods import ProductionPeriod, periods_from, periods_until, registry_zone
from registry.models import Organization, User
from utilities.display import date_text, datetime_text

from .values import BatchFacts, batch_accepted, batch_refused


class Program(models.Model):
    """A program that retirements count toward, for one compliance year, until its close date."""

    class Kind(models.TextChoices):
        COMPLIANCE = "compliance", "Compliance"
        VOLUNTARY = "voluntary", "Voluntary"

    code = models.SlugField(max_length=40, unique=True,
                            help_text="A short, unique name used in links and files, e.g. mn-res-2025.")
    name = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=16, choices=Kind)
    jurisdiction = models.CharField(max_length=120, help_text="Whose program it is, e.g. Minnesota.")
    compliance_year = models.PositiveSmallIntegerField(null=True, blank=True)
    close_date = models.DateField(null=True, blank=True,
                                  help_text="The last day retirements count toward it; none after.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


    def rules_on(self, when: datetime.date | datetime.datetime) -> "ProgramRules | None":
        """The rules in force at a moment, or on a date (as that day ended: a change made that day
        counts); None before the first version."""
        if not isinstance(when, datetime.datetime):
            following = datetime.datetime.combine(when + datetime.timedelta(days=1), datetime.time(),
                                                  tzinfo=registry_zone())
            return self.rule_versions.filter(effective_from__lt=following).order_by("-effective_from").first()
        return self.rule_versions.filter(effective_from__lte=when).order_by("-effective_from").first()

    def is_closed(self, now: datetime.datetime) -> bool:
        """Whether `now` is after the close date (in the registry's zone): no retirement counts
        toward it any more, and its retirement accounts freeze."""
        return self.close_date is not None and now.astimezone(registry_zone()).date() > self.close_date

    def closed_problem(self, now: datetime.datetime) -> str:
        """Why no retirement toward it is accepted at `now`, or ""."""
        if self.is_closed(now):
            return f"{self.name} closed on {date_text(self.close_date)}; it accepts no more retirements."
        return ""


class ProgramRules(models.Model):
    """One version of a program's rules on the certificates it accepts, in force from `effective_from`
    until the next version's. A change appends a version; none is ever changed or deleted (the
    database refuses it: migration 0003). An empty list accepts any value of its attribute.

    The one rule: `problems()` (the batches it refuses, in plain words) and `batches_q()` (the same
    rule as a filter on batches, for the Active tab's "Eligible for"): each attribute is read by both
    from the same helpers (vintage_window, _checks), so the two cannot disagree."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="rule_versions")
    effective_from = models.DateTimeField(help_text="When these rules take effect (now, or later).")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    note = models.TextField(blank=True, help_text="Why the rules changed (an order, a statute).")
    vintage_years_before = models.PositiveSmallIntegerField(
        "vintage no older than (years before the compliance year)", null=True, blank=True,
        help_text="E.g. 4: a 2025 program accepts vintages from 2021 on.")
    vintage_from = models.DateField("earliest vintage", null=True, blank=True,
                                    help_text="The first month accepted (its first day).")
    vintage_to = models.DateField("latest vintage", null=True, blank=True,
                                  help_text="The last month accepted (its first day).")
    fuels = ArrayField(models.CharField(max_length=16, choices=FuelType), default=list, blank=True)
    technologies = ArrayField(models.CharField(max_length=32, choices=Technology), default=list, blank=True)
    states = ArrayField(models.CharField(max_length=2, choices=StateOrProvince), default=list, blank=True,
                        verbose_name="states or provinces")
    eligibilities = ArrayField(models.CharField(max_length=32), default=list, blank=True,
                               verbose_name="eligibilities (any of)")
    generators = ArrayField(models.CharField(max_length=16), default=list, blank=True,
                            verbose_name="generators (by generator ID)")

    class Meta:
        ordering = ["program", "-effective_from"]
        verbose_name = "program rules"
        verbose_name_plural = "program rules"
        constraints = [
            models.UniqueConstraint(fields=["program", "effective_from"], name="program_rules_once_per_moment"),
            models.CheckConstraint(condition=models.Q(vintage_from__isnull=True) | models.Q(vintage_to__isnull=True)
                                   | models.Q(vintage_from__lte=models.F("vintage_to")),
                                   name="program_rules_vintage_in_order"),
        ]

    def __str__(self) -> str:
        return f"{self.program} rules from {datetime_text(self.effective_from)}"

    # The rule, in Python and in SQL.

    def vintage_window(self) -> tuple[ProductionPeriod | None, ProductionPeriod | None]:
        """The first and last months accepted (None: no bound): the later of `vintage_from` and January
        of `vintage_years_before` years before the program's compliance year, and `vintage_to`."""
        first = [ProductionPeriod.month_of(self.vintage_from)] if self.vintage_from else []
        year = self.program.compliance_year
        if self.vintage_years_before is not None and year is not None:
            first.append(ProductionPeriod.month(year - self.vintage_years_before, 1))
        return (max(first) if first else None,
                ProductionPeriod.month_of(self.vintage_to) if self.vintage_to else None)

    def vintage_text(self) -> str:
        """`2021 or later`, `03/2021 to 12/2024`, `12/2024 or earlier`: the window, whole years as years."""
        first, last = self.vintage_window()
        first_text = str(first.year) if first and first.first_day.month == 1 else str(first)
        last_text = str(last.year) if last and last.first_day.month == 12 else str(last)
        if first and last:
            return first_text if first_text == last_text else f"{first_text} to {last_text}"
        return f"{first_text} or later" if first else f"{last_text} or earlier"

    def summary(self) -> list[tuple[str, str]]:
        """The rules as staff and regulators read them: (rule, what it accepts), "any" when it is open."""
        first, last = self.vintage_window()

        def listed(values, choices=None):
            return ", ".join(choices(value).label if choices and value in choices.values else value
                             for value in values) or "any"
        return [("Vintage", self.vintage_text() if first or last else "any"),
                ("Fuels", listed(self.fuels, FuelType)), ("Technologies", listed(self.technologies, Technology)),
                ("States or provinces", listed(self.states, StateOrProvince)),
                ("Eligibilities (any of)", listed(self.eligibilities)), ("Generators", listed(self.generators))]

    def _checks(self) -> list[tuple[str, list[str], str]]:
        """Each list rule that says something, in the order a batch is checked: (the rule, the values
        it accepts, its lookup on CertificateBatch). An eligibility rule accepts a batch carrying any
        of its eligibilities; the others, a batch whose value is one of theirs."""
        return [(rule, values, lookup) for rule, values, lookup in (
            ("fuel", self.fuels, "certificate__fuel_type__in"),
            ("technology", self.technologies, "certificate__generator__technology__in"),
            ("state", self.states, "certificate__state__in"),
            ("eligibility", self.eligibilities, "certificate__eligibilities__overlap"),
            ("generator", self.generators, "certificate__generator__code__in"),
        ) if values]

    def batches_q(self) -> Q:
        """The batches these rules accept, as a filter on CertificateBatch (what problems() finds
        nothing wrong with)."""
        first, last = self.vintage_window()
        q = Q()
        if first:
            q &= periods_from("certificate__period", first)
        if last:
            q &= periods_until("certificate__period", last)
        for _, values, lookup in self._checks():
            q &= Q(**{lookup: values})
        return q

    def problems(self, batches: Iterable[BatchFacts]) -> dict[int, str]:
        """Each batch these rules refuse, by its id, with the first rule it breaks, naming the rule and
        the batch: "M805-MN-01-2019-1 to 50 is vintage 01/2019; Minnesota RES 2025 accepts 2021 or later."."""
        name, (first, last) = self.program.name, self.vintage_window()
        checks = self._checks()
        problems = {}
        for batch in batches:
            if (first and batch.period.start < first.start) or (last and batch.period.end > last.end):
                problems[batch.batch_id] = (f"{batch.serial_number} is vintage {batch.period}; {name} accepts "
                                            f"{self.vintage_text()}.")
                continue
            for rule, accepted, _ in checks:
                if not batch_accepted(rule, accepted, batch):
                    problems[batch.batch_id] = batch_refused(rule, accepted, batch, program=name)
                    break
        return problems


class ProgramAccount(models.Model):
    """A retirement account opened for one program: what is retired into it counts toward that
    program, and it freezes when the program closes."""

    account = models.OneToOneField(Account, on_delete=models.PROTECT, primary_key=True, related_name="program_link")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="accounts")

    def __str__(self) -> str:
        return f"{self.account} for {self.program}"


# --- Participants and program administrators (issue #29, item 3) ------------------------------------


class ProgramAdministrator(models.Model):
    """A regulator organization that administers a program: its members (any role) read every
    retirement toward the program, of any organization, and invite organizations to join it. Staff
    assign it in the program's admin page (programs.participation, each change a ledger event)."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="administrators")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="programs_administered",
                                     limit_choices_to={"kind": Organization.Kind.REGULATOR},
                                     help_text="A regulator organization (its kind is set on its admin page).")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["program", "organization"], name="program_administrator_once")]
        ordering = ["program__name", "organization__name"]

    def __str__(self) -> str:
        return f"{self.organization.name} administers {self.program}"


class ProgramParticipation(models.Model):
    """An organization invited to join a program (by registry staff or a program administrator), and
    its managers' answer. A joined organization opens the program's retirement accounts."""

    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        JOINED = "joined", "Joined"
        DECLINED = "declined", "Declined"

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="participations")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="program_participations")
    status = models.CharField(max_length=16, choices=Status, default=Status.INVITED)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    invited_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # One row per program and organization: a declined organization is invited again on the same row.
        constraints = [models.UniqueConstraint(fields=["program", "organization"], name="program_participation_once")]
        ordering = ["program__name", "organization__name"]

    def __str__(self) -> str:
        return f"{self.organization.name} in {self.program} ({self.get_status_display().lower()})"
