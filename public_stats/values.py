"""The public statistics' words: the activities counted, and a query of the statistics (its filters,
with their one rule, `problems()`). Imports nothing else of the app, so the models, the selectors,
the pages and the API read the same words."""

import datetime
import re
from dataclasses import dataclass, fields

from django.db import models

from certificates.models import FuelType, StateOrProvince, Technology


class Activity(models.TextChoices):
    """What happened to the certificates counted in a row, in the month of its row."""

    ISSUED = "issued", "Issued"
    TRANSFERRED = "transferred", "Transferred"  # a completed internal transfer, or one another organization accepted
    RETIRED = "retired", "Retired"
    EXPORTED = "exported", "Exported"  # an export the receiving tracking system confirmed


# 01/2024, as the dashboard writes a vintage; the years the registry's vintages take (certificates.periods).
MONTH_TEXT = re.compile(r"^(0[1-9]|1[0-2])/(19[0-9]{2}|20[0-9]{2}|2100)$")


def month_parse(text: str) -> datetime.date | None:
    """A month as people type it, MM/YYYY, as its first day; None if it is not one."""
    match = MONTH_TEXT.fullmatch(text)
    if not match:
        return None
    return datetime.date(int(match[2]), int(match[1]), 1)


def month_text(month: datetime.date) -> str:
    return f"{month:%m/%Y}"


# The dimensions a row of the statistics is counted by, besides its month, as the query string names them.
DIMENSIONS = {
    "activity": Activity,
    "fuel": FuelType,
    "technology": Technology,
    "state": StateOrProvince,
}


@dataclass(frozen=True)
class StatisticsQuery:
    """Which statistics a reader asks for: each filter empty for every value. `program` is a
    program's code; `month_from` and `month_to` are MM/YYYY, both included."""

    activity: str = ""
    fuel: str = ""
    technology: str = ""
    state: str = ""
    eligibility: str = ""
    program: str = ""
    month_from: str = ""
    month_to: str = ""

    @classmethod
    def from_params(cls, params) -> "StatisticsQuery":
        """From a query string (a QueryDict, or any mapping of names to text), as sent; names it does
        not take are left out (the API refuses them, the pages ignore them)."""
        return cls(**{field.name: str(params.get(field.name) or "") for field in fields(cls)})

    def problems(self) -> dict[str, str]:
        """Field -> message for each filter that names nothing the statistics count."""
        found = {field.name: "Text may not hold a null character." for field in fields(self)
                 if "\x00" in getattr(self, field.name)}
        for name, choices in DIMENSIONS.items():
            value = getattr(self, name)
            if value and value not in choices.values and name not in found:
                found[name] = f"There is no {name} “{value}”; choose one from the list."
        for name in ("month_from", "month_to"):
            value = getattr(self, name)
            if value and month_parse(value) is None:
                found[name] = f"Write the month as MM/YYYY, for example 01/2024, not “{value}”."
        if "month_from" not in found and "month_to" not in found and self.month_from and self.month_to \
                and month_parse(self.month_from) > month_parse(self.month_to):
            found["month_to"] = "The last month comes before the first; swap them."
        if len(self.eligibility) > 32:
            found["eligibility"] = "No eligibility is that long; choose one from the list."
        if len(self.program) > 40:
            found["program"] = "No program has a code that long; choose one from the list."
        return found

    def as_params(self) -> dict[str, str]:
        """The filters that are set, as a query string names them."""
        return {field.name: getattr(self, field.name) for field in fields(self) if getattr(self, field.name)}
