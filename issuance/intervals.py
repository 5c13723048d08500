"""Validating a granular generator's interval data (EnergyTag): a CSV of Generator ID, Interval start,
Interval end (ISO 8601 with the offset from UTC) and Wh, uploaded on the generation-data page as the
monthly file is, read by utilities.csv_upload. Every problem is reported with its row, column, value and
a plain message; the file is applied all or nothing (issuance.services).

An interval lasts at most an hour and at least the registry's shortest interval
(certificates.periods.interval_refusal); no two of a generator's intervals overlap, in the file or
with those reported before (the database's exclusion constraint is the last word); an interval's Wh
are at most what the generator's capacity makes in it."""

import bisect
import datetime
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from certificates.models import Generator
from certificates.periods import ProductionPeriod, interval_refusal, registry_zone
from registry.models import Organization
from utilities.csv_upload import Layout, RowError, column_label, decode, read_rows

from .generation import generator_refusal, reportable_generators
from .models import MWH_DECIMALS, IntervalReading

COLUMNS = ["Generator ID", "Interval start", "Interval end", "Wh"]
INTERVALS = Layout(
    COLUMNS,
    {"generator id": "Generator ID", "generator": "Generator ID", "generator code": "Generator ID",
     "interval start": "Interval start", "start": "Interval start", "start time": "Interval start",
     "interval end": "Interval end", "end": "Interval end", "end time": "Interval end",
     "wh": "Wh", "generation wh": "Wh", "generation (wh)": "Wh", "energy (wh)": "Wh"},
    frozenset(), "intervals", max_rows_setting="GENERATION_UPLOAD_MAX_ROWS", number_column="Wh")
# The same columns as the API's interval readings name them (api: POST /api/v1/interval-readings/), and a
# reading as its refusals name it: by its index in the body's `readings`.
READING_FIELDS = {"Generator ID": "generator", "Interval start": "interval_start", "Interval end": "interval_end",
                  "Wh": "wh"}
ReadingText = tuple[str, str, str, str]  # a reading as text: Generator ID, Interval start, Interval end, Wh


def reading_name(index: int) -> str:
    return f"readings[{index}]"


WH = re.compile(r"^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)$")
WH_MOST = 2**63 - 1  # the column's


@dataclass(frozen=True, slots=True)
class IntervalRow:
    row: int
    generator_id: int
    period: ProductionPeriod
    wh: int


def is_interval_file(raw: bytes) -> bool:
    """Whether an uploaded generation file is interval data: its header names an interval column."""
    return "interval" in decode(raw[:4096]).split("\n", 1)[0].lower()


def parse_moment(text: str) -> datetime.datetime | str:
    """An ISO 8601 moment with its offset from UTC, or what is wrong with it."""
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return "Enter the time in ISO 8601 with its offset from UTC, e.g. 2026-01-01T10:00:00-06:00."
    if moment.tzinfo is None:
        return "Give the time with its offset from UTC, e.g. 2026-01-01T10:00:00-06:00 or 2026-01-01T16:00:00Z."
    return moment


def parse_wh(text: str, *, what: str = "generation", who: str = "any generator makes") -> int | str:
    """The Wh of a cell as a whole number, or what is wrong with it, `what` naming the quantity read (a
    consumption site's reading: "consumption", "any site uses")."""
    cleaned = text.replace(" ", "")
    if cleaned.startswith("-"):
        return f"The {what} cannot be negative."
    if not WH.match(cleaned):
        return f"Enter the {what} in Wh as a whole number, e.g. 1250000 or 1,250,000."
    wh = int(cleaned.replace(",", ""))
    return wh if wh <= WH_MOST else f"This is more than {who} in an interval."


HOUR = datetime.timedelta(hours=1)
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def clock_hour(moment: datetime.datetime) -> ProductionPeriod:
    """The hour of the registry's clock that `moment` lies in: [start, start + 1 h), its start on the hour
    in the registry's zone, counted in elapsed time (UTC), so that the night the clocks go back has its
    two 01:00 hours, one after the other, and the night they go forward has no 02:00. The hours hourly
    matching counts consumption and certificates in (matching.services)."""
    offset = moment.astimezone(registry_zone()).utcoffset()
    start = (moment - ((moment - EPOCH) + offset) % HOUR).astimezone(datetime.UTC)
    return ProductionPeriod(start, start + HOUR)


def consumption_interval_refusal(start: datetime.datetime, end: datetime.datetime) -> str | None:
    """Why [start, end) cannot be a consumption reading's interval, in plain words; None if it can. A
    meter reads every 5, 15, 30 or 60 minutes whatever the certificates' interval, so a reading may be
    shorter than the registry's shortest interval; but it lies within one hour of the registry's clock
    (clock_hour), because matching sums consumption per hour: a reading across an hour's end would
    have to be split between two hours by a guess, so it is refused, and the meter's data split there."""
    if not start < end:
        return "The interval ends before it starts, or when it starts."
    if start.second or start.microsecond or end.second or end.microsecond:
        return "Give the interval's start and end in whole minutes."
    hour = clock_hour(start)
    if end > hour.end:
        at = hour.end.astimezone(registry_zone())
        return (f"The interval runs past {at:%H:%M} {at.tzname()}, the end of its hour: a reading lies within one "
                f"hour of the registry's clock, as matching counts consumption hour by hour. Split it at {at:%H:%M}.")
    return None


def reading_interval(start_text: str, end_text: str, refuse: Callable[[str, str, str], None], *,
                     now: datetime.datetime,
                     rule: Callable[[datetime.datetime, datetime.datetime], str | None] = interval_refusal
                     ) -> ProductionPeriod | None:
    """A meter reading's interval from its two cells (ISO 8601 with their offsets), as every reading is
    read: within `rule` (a generator's: certificates.periods.interval_refusal, at most an hour; a
    consumption site's: consumption_interval_refusal), and over by `now`; each problem refused by its
    column (`refuse(column, text, message)`), and None then."""
    start, end = parse_moment(start_text), parse_moment(end_text)
    for column, text, moment in (("Interval start", start_text, start), ("Interval end", end_text, end)):
        if isinstance(moment, str):
            refuse(column, text, moment)
    if isinstance(start, str) or isinstance(end, str):
        return None
    if refusal := rule(start, end):
        refuse("Interval end", end_text, refusal)
    elif end > now:
        refuse("Interval end", end_text, "This interval is not over yet; report it once it has ended.")
    else:
        return ProductionPeriod(start, end)
    return None


def wh_as_mwh(wh: int) -> Decimal:
    """Wh as the MWh a month's report holds (to the kWh, MWH_DECIMALS; the Wh under a kWh are dropped there,
    not from the certificates, which are issued in Wh)."""
    return (Decimal(wh) / Decimal(1_000_000)).quantize(Decimal(1).scaleb(-MWH_DECIMALS), rounding=ROUND_FLOOR)


def capacity_wh(generator: Generator, period: ProductionPeriod) -> int:
    """The most a generator makes in an interval: its capacity (MW, to the kW) times the interval, in Wh
    (exact: MW x seconds / 3600 x 10^6, rounded down to the Wh)."""
    return int(generator.capacity_mw * Decimal(1_000_000) * Decimal(int(period.duration.total_seconds()))
               // Decimal(3600))


def validate(raw: bytes, organization: Organization) -> tuple[list[IntervalRow], list[RowError], int]:
    """Every row of an interval file checked against the registry as it is now: (rows, errors, row count)."""
    records, errors = read_rows(raw, INTERVALS)
    if errors:
        return [], errors, len(records)
    label = {name: column_label(index, name) for index, name in enumerate(COLUMNS)}
    rows, errors = validate_records(records, organization, label=label)
    return rows, errors, len(records)


def validate_records(records: list[tuple[int, str, str, str, str]], organization: Organization, *,
                     label: dict[str, str], row_name=lambda row: f"row {row}"
                     ) -> tuple[list[IntervalRow], list[RowError]]:
    """Interval readings as text (row, Generator ID, Interval start, Interval end, Wh), from a file's rows or
    the API's body, checked by the rules above: (rows, errors), no rows if any is wrong. `label` names each of
    COLUMNS as the errors name it (a file's column, the API's field); `row_name` another row, as a refusal
    names it (an overlap's)."""
    errors: list[RowError] = []
    generators = reportable_generators(organization, {record[1].upper() for record in records if record[1]})
    now = timezone.now()
    rows: list[IntervalRow] = []
    for number, code, start_text, end_text, wh_text in records:

        def refuse(column, value, message, number=number):
            errors.append(RowError(number, label[column], value, message))

        generator = generators.get(code.upper())
        if refusal := generator_refusal(code, generator, organization, granular=True):
            refuse("Generator ID", code, refusal)
            generator = None
        period = reading_interval(start_text, end_text, refuse, now=now)
        wh = parse_wh(wh_text)
        if isinstance(wh, str):
            refuse("Wh", wh_text, wh)
        elif generator and period and wh > (most := capacity_wh(generator, period)):
            refuse("Wh", wh_text, f"{wh:,} Wh is more than {generator.code}'s capacity of "
                                  f"{generator.capacity_text} MW makes in this interval (at most {most:,} Wh).")
        elif generator and period:
            rows.append(IntervalRow(number, generator.pk, period, wh))
    errors += overlaps(rows, generators, label, row_name)
    return ([] if errors else rows), errors


def overlaps(rows: list[IntervalRow], generators: dict[str, Generator], label: dict[str, str],
             row_name=lambda row: f"row {row}") -> list[RowError]:
    """The rows whose interval overlaps another row's of the same generator, or one reported before."""
    codes = {generator.pk: generator.code for generator in generators.values()}
    return interval_overlaps(
        rows, owner="generator_id", readings=IntervalReading.objects, column=label["Interval start"],
        in_file=lambda other, generator_id: f"This interval overlaps {row_name(other)}'s of {codes[generator_id]}; "
                                            "report each interval once.",
        recorded=lambda generator_id: f"{codes[generator_id]} has generation reported already for an interval "
                                      "overlapping this one; an interval is reported once.")


def interval_overlaps(rows: list, *, owner: str, readings: QuerySet, column: str,
                      in_file: Callable[[int, int], str], recorded: Callable[[int], str]) -> list[RowError]:
    """The one rule of meter readings that an interval is read once: the rows (each with `row`, `period`
    and the id of what was metered, its attribute `owner`: a generator's, a consumption site's) whose
    interval overlaps another row's of the same owner (`in_file(the other row, owner id)` says so), or one
    of `readings` recorded before (`recorded(owner id)`), each refused in `column`, by row. The database
    refuses an overlap too (an exclusion constraint); this gives the row and the words."""
    by_owner: dict[int, list] = defaultdict(list)
    for row in rows:
        by_owner[getattr(row, owner)].append(row)
    wanted = Q()
    for owner_id, own in by_owner.items():
        span = ProductionPeriod(min(row.period.start for row in own), max(row.period.end for row in own))
        wanted |= Q(**{owner: owner_id, "period__overlap": span})
    before: dict[int, list[ProductionPeriod]] = defaultdict(list)
    if by_owner:
        for owner_id, period in readings.filter(wanted).values_list(owner, "period"):
            before[owner_id].append(period)
    errors = []
    for owner_id, own in by_owner.items():
        earlier = sorted(before[owner_id])
        starts = [period.start for period in earlier]
        last = None
        for row in sorted(own, key=lambda row: (row.period, row.row)):
            shown = row.period.start.isoformat()
            at = bisect.bisect_right(starts, row.period.start)
            if last is not None and last.period.overlaps(row.period):
                errors.append(RowError(row.row, column, shown, in_file(last.row, owner_id)))
            elif any(period.overlaps(row.period) for period in earlier[max(at - 1, 0):at + 1]):
                errors.append(RowError(row.row, column, shown, recorded(owner_id)))
            if last is None or row.period.end > last.period.end:
                last = row
    return sorted(errors, key=lambda error: error.row)
