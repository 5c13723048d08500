"""Every read of the public statistics, for the pages, their CSV and the API alike: the summary
tables summed as a query asks (never the batches), and the public list of approved generators
(nothing of their owners)."""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum

from certificates.models import FuelType, Generator, StateOrProvince, Technology
from programs.models import Program

from .models import EligibilityTotal, MonthlyTotal
from .values import Activity, StatisticsQuery, month_parse, month_text

# What a table of the statistics may be counted by (its rows, and the chart's bars), and its heading.
GROUPINGS = {
    "month": "Month",
    "fuel": "Fuel",
    "technology": "Technology",
    "state": "State or province",
    "eligibility": "Eligibility",
    "program": "Program",
}
NOT_GIVEN = "Not given"
NO_PROGRAM = "No program"


@dataclass(frozen=True)
class StatisticsRow:
    key: str  # as the API and the CSV name it: 2024-01, wind, MN, a program's code ("" for none)
    label: str  # as a person reads it: 01/2024, Wind, Minnesota, a program's name
    quantity: Decimal  # MWh, exact (certificates.units): monthly RECs and hourly certificates' Wh together


def _totals(query: StatisticsQuery, *, by_eligibility: bool) -> QuerySet:
    """The summary rows `query` picks: each certificate once, or once under each of its eligibilities."""
    model = EligibilityTotal if by_eligibility or query.eligibility else MonthlyTotal
    rows = model.objects.filter(activity=query.activity or Activity.ISSUED)
    for name in ("fuel", "technology", "state", "eligibility"):
        if value := getattr(query, name):
            rows = rows.filter(**{name: value})
    if query.program:
        rows = rows.filter(program__code=query.program)
    if query.month_from:
        rows = rows.filter(month__gte=month_parse(query.month_from))
    if query.month_to:
        rows = rows.filter(month__lte=month_parse(query.month_to))
    return rows


def statistics_rows(query: StatisticsQuery, *, by: str = "month") -> list[StatisticsRow]:
    """The certificates of the query's activity (issued by default), summed by `by` (a GROUPINGS key),
    in order: months oldest first, anything else by its label. `query` has no problems()."""
    rows = _totals(query, by_eligibility=by == "eligibility")
    if by == "program":
        summed = rows.values("program__code", "program__name").annotate(total=Sum("quantity"))
        found = [StatisticsRow(row["program__code"] or "", row["program__name"] or NO_PROGRAM, row["total"])
                 for row in summed]
        return sorted(found, key=lambda row: (row.key == "", row.label))
    summed = rows.values(by).annotate(total=Sum("quantity")).order_by(by)
    if by == "month":
        return [StatisticsRow(f"{row['month']:%Y-%m}", month_text(row["month"]), row["total"]) for row in summed]
    labels = {"fuel": dict(FuelType.choices), "technology": dict(Technology.choices),
              "state": dict(StateOrProvince.choices)}.get(by, {})
    found = [StatisticsRow(row[by], labels.get(row[by], row[by]) or NOT_GIVEN, row["total"]) for row in summed]
    return sorted(found, key=lambda row: row.label)


def statistics_total(query: StatisticsQuery) -> Decimal:
    """The MWh of every certificate the query picks, each once (whatever its eligibilities)."""
    return _totals(query, by_eligibility=False).aggregate(total=Sum("quantity"))["total"] or Decimal(0)


def eligibilities_counted() -> list[str]:
    """The eligibilities some certificate counted carries: the eligibility filter's choices."""
    return list(EligibilityTotal.objects.order_by("eligibility").values_list("eligibility", flat=True).distinct())


def programs_counted() -> list[tuple[str, str]]:
    """(code, name) of every program: the program filter's choices."""
    return list(Program.objects.order_by("name").values_list("code", "name"))


# The public list of generators -------------------------------------------------------------------

@dataclass(frozen=True)
class GeneratorQuery:
    fuel: str = ""
    technology: str = ""
    state: str = ""

    @classmethod
    def from_params(cls, params) -> "GeneratorQuery":
        return cls(**{name: str(params.get(name) or "") for name in ("fuel", "technology", "state")})

    def problems(self) -> dict[str, str]:
        choices = {"fuel": FuelType, "technology": Technology, "state": StateOrProvince}
        return {name: f"There is no {name} “{getattr(self, name)}”; choose one from the list."
                for name, values in choices.items() if getattr(self, name) and getattr(self, name) not in values.values}


# What the public may know of a generator: nothing of its owner, its account or its review.
PUBLIC_GENERATOR_FIELDS = ["code", "name", "fuel_type", "technology", "state", "capacity_mw", "commissioned_on"]


def generators_public(query: GeneratorQuery = GeneratorQuery()) -> QuerySet:
    """The approved generators the query picks, by ID, with only their public fields."""
    generators = Generator.objects.approved()
    for name, field in (("fuel", "fuel_type"), ("technology", "technology"), ("state", "state")):
        if value := getattr(query, name):
            generators = generators.filter(**{field: value})
    return generators.order_by("code").only(*PUBLIC_GENERATOR_FIELDS)


def generators_by_fuel(query: GeneratorQuery = GeneratorQuery()) -> list[dict]:
    """The query's approved generators by fuel: how many, and their capacity (MW); the chart's bars."""
    generators = generators_public(query).order_by()
    summed = generators.values("fuel_type").annotate(count=Count("pk"), capacity=Sum("capacity_mw"))
    labels = dict(FuelType.choices)
    return sorted(({"fuel": row["fuel_type"], "label": labels.get(row["fuel_type"], row["fuel_type"]),
                    "count": row["count"], "capacity": row["capacity"]} for row in summed),
                  key=lambda row: row["label"])

