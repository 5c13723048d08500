"""A matching statement's public proof and its figures: the record's SHA-256 digest (the canonical
form of a retirement's record, retirements.statements.record_digest: one definition), and the
consumption matched per hour, day and month (days and months in the registry's zone), with the
unmatched hours."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from certificates.periods import registry_zone
from retirements.statements import CANONICAL_FORM, record_digest
from utilities.charts import BarChart, bar_chart

from .models import MatchingStatement
from .values import percent_text

HOURS_CHARTED = 48  # a statement of at most two days charts each hour; a longer one each day


@dataclass(frozen=True)
class Share:
    """Consumption matched over a stretch (an hour, a day, a month)."""

    label: str
    consumption_wh: int
    matched_wh: int

    @property
    def percent(self) -> str:
        return percent_text(self.matched_wh, self.consumption_wh)

    @property
    def unmatched_wh(self) -> int:
        return self.consumption_wh - self.matched_wh


def statement_digest(statement: MatchingStatement) -> str:
    return record_digest(statement.record)


def statement_verification_url(statement: MatchingStatement) -> str:
    return settings.SITE_URL + reverse("matching:verify", args=[statement.reference])


def _local(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).astimezone(registry_zone())


def _clock_text(moment: datetime.datetime) -> str:
    """A local time as the hours are labelled: "01:00", with its zone's abbreviation where the clocks
    going back make it ambiguous ("01:00 CDT", then "01:00 CST")."""
    ambiguous = moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()
    return f"{moment:%H:%M} {moment.tzname()}" if ambiguous else f"{moment:%H:%M}"


def hour_shares(record: dict) -> list[Share]:
    """Each hour of the record: its consumption (left open when the statement was made: earlier
    statements' matches are not this one's) and what this statement matched."""
    return [Share(f"{_local(hour['start']):%Y-%m-%d} {_clock_text(_local(hour['start']))}–"
                  f"{_clock_text(_local(hour['end']))}",
                  hour["consumption_wh"] - hour["matched_before_wh"], hour["matched_wh"]) for hour in record["hours"]]


def _grouped(record: dict, key) -> list[Share]:
    totals: dict[str, list[int]] = {}
    for hour in record["hours"]:
        total = totals.setdefault(key(_local(hour["start"])), [0, 0])
        total[0] += hour["consumption_wh"] - hour["matched_before_wh"]
        total[1] += hour["matched_wh"]
    return [Share(label, consumed, matched) for label, (consumed, matched) in totals.items()]


def day_shares(record: dict) -> list[Share]:
    return _grouped(record, lambda moment: f"{moment:%Y-%m-%d}")


def month_shares(record: dict) -> list[Share]:
    return _grouped(record, lambda moment: f"{moment:%m/%Y}")


def unmatched_hours(record: dict) -> list[Share]:
    """The hours this statement left short of their consumption (none matched, or part)."""
    return [share for share in hour_shares(record) if share.unmatched_wh > 0]


def statement_chart(record: dict) -> tuple[BarChart, str]:
    """The chart of the share matched: each hour for a statement of up to HOURS_CHARTED hours, else each
    day; and what its bars are."""
    hourly = len(record["hours"]) <= HOURS_CHARTED
    shares = hour_shares(record) if hourly else day_shares(record)
    rows = [(share.label[5:] if hourly else share.label,
             share.matched_wh * 1000 // share.consumption_wh if share.consumption_wh else 0, share.percent)
            for share in shares]
    return bar_chart(rows, full=1000), "hour" if hourly else "day"


def statement_context(statement: MatchingStatement) -> dict:
    """What the statement's page and its public page show."""
    record = statement.record
    chart, charted = statement_chart(record)
    return {"statement": statement, "record": record, "digest": statement_digest(statement),
            "canonical_form": CANONICAL_FORM, "chart": chart, "charted": charted,
            "total": Share("Total", record["consumption_wh"] - sum(h["matched_before_wh"] for h in record["hours"]),
                           record["matched_wh"]),
            "hour_rows": list(zip(record["hours"], hour_shares(record), strict=True)),
            "days": day_shares(record), "months": month_shares(record),
            "unmatched": unmatched_hours(record),
            "hours_matched": sum(1 for hour in record["hours"] if hour["matched_wh"]),
            "verification_url": statement_verification_url(statement)}
