"""What matching's callers name and are refused with; imports nothing else of the app."""

import datetime

from certificates.periods import ProductionPeriod, registry_zone
from transfers.values import ALL, TransferRefused


class MatchingRefused(TransferRefused):
    """A refusal of a consumption upload, a site's registration or a match, by the field it concerns
    (the transfers' shape: one message with its field, or `problems`); the API answers it as a 422
    naming the body's fields."""


def percent_text(part: int, whole: int) -> str:
    """`part` of `whole` as a percentage to one decimal, rounded down (never 100% before all of it is
    matched), in integers only: "87.5%"; "—" for nothing consumed."""
    if whole <= 0:
        return "—"
    tenths = part * 1000 // whole
    return f"{tenths // 10}.{tenths % 10}%"


class ConsumptionRefused(MatchingRefused):
    """Consumption data refused, nothing recorded: every problem with its row (the file's, or the
    body's index), its column (the file's label, or the body's field) and the reason."""

    def __init__(self, errors: list):
        self.errors = errors
        count = len(errors)
        super().__init__(problems={f"readings.{error.row}.{error.column}" if error.column else ALL:
                                   error.message for error in errors})
        self.args = (f"{count} problem{'s' if count != 1 else ''} in the consumption data; nothing was recorded.",)

    def __str__(self) -> str:
        return self.args[0]


def days_span(first: datetime.date | None, last: datetime.date | None) -> ProductionPeriod | None:
    """The days from `first` to `last` (both included; either open) in the registry's zone, as one
    period: what a match of "these days" covers (None: no days given, all of it)."""
    if not (first or last):
        return None
    zone = registry_zone()
    start = datetime.datetime.combine(first or datetime.date(2000, 1, 1), datetime.time(), zone)
    end = datetime.datetime.combine((last or datetime.date(2100, 1, 1)) + datetime.timedelta(days=1),
                                    datetime.time(), zone)
    return ProductionPeriod(start.astimezone(datetime.UTC), end.astimezone(datetime.UTC))
