"""A certificate's production period: what it was produced in, the one value type every app uses.

A period is a half-open interval of time, [start, end), of two aware moments. Today's certificates
are monthly: a month is the period from midnight on its first day to midnight on the next month's
first day, both in the registry's time zone (settings.TIME_ZONE), and it reads `01/2020` on the
pages, `2020-01` in the API and `01-2020` in a serial base, as it always has. An hourly certificate
(EnergyTag: an interval of at most one hour, given in ISO 8601 with its offset) is the same type
with other bounds, so the columns, constraints and lookups below hold it without another change.

Why moments, not dates: an hour is a moment, and a month's bounds at midnight in the registry's zone
put every hour in exactly one month (`contains`), the month users mean (a US registry's January
ends at 06:00 UTC on February 1, not at midnight UTC). The cost: the stored months are read as
months in the zone they were written in, so a registry that changes TIME_ZONE must convert its
periods with a migration, as the one that introduced this type converted the vintage dates.

The database holds a period in one tstzrange column (ProductionPeriodField), so "one issuance per
generator and period" is an exclusion constraint on overlapping ranges, which also refuses an hour
inside an issued month.
"""

import datetime
import functools
import re
import zoneinfo
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import DateTimeField, DurationField, F, Func, IntegerField, Q, Value
from django.db.models.lookups import Exact, LessThanOrEqual

MONTH = re.compile(r"^\s*(?:([0-9]{1,2})\s*/\s*([0-9]{4})|([0-9]{4})-([0-9]{1,2}))\s*$")
YEARS = range(1900, 2101)  # the years a month may be in; year 0 is no date at all
# The same months as a pattern (JSON Schema's, for the API's schema): MM/YYYY or YYYY-MM in YEARS, or
# nothing (no filter). Blanks around it, which parse_month also takes, are left out.
_MM, _YYYY = "(0?[1-9]|1[0-2])", "(19[0-9]{2}|20[0-9]{2}|2100)"
MONTH_PATTERN = f"^$|^{_MM}/{_YYYY}$|^{_YYYY}-{_MM}$"
MONTH_HELP = f"Enter a month as MM/YYYY with a year from {YEARS.start} to {YEARS.stop - 1}, e.g. 01/2020."
LONGEST_INTERVAL = datetime.timedelta(hours=1)  # an hourly (granular) certificate's period, at most


def registry_zone() -> zoneinfo.ZoneInfo:
    """The zone a month's bounds are in: the registry's own (read each time, as tests may set it)."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


@functools.total_ordering
@dataclass(frozen=True, eq=True)
class ProductionPeriod:
    """[start, end): two aware moments. Build one with `month`, `month_of`, `interval` or `parse`;
    periods order by start, then end, and compare equal when they are the same time, whatever the
    offsets they are written with."""

    start: datetime.datetime
    end: datetime.datetime

    def __post_init__(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("A production period's start and end are moments with a time zone.")
        if not self.start < self.end:
            raise ValueError("A production period ends after it starts.")

    def __lt__(self, other: "ProductionPeriod") -> bool:
        if not isinstance(other, ProductionPeriod):
            return NotImplemented
        return (self.start, self.end) < (other.start, other.end)

    # How one is made.

    @classmethod
    def month(cls, year: int, month: int) -> "ProductionPeriod":
        """The calendar month, in the registry's zone."""
        zone = registry_zone()
        following = (year + 1, 1) if month == 12 else (year, month + 1)
        return cls(datetime.datetime(year, month, 1, tzinfo=zone), datetime.datetime(*following, 1, tzinfo=zone))

    @classmethod
    def month_of(cls, day: datetime.date) -> "ProductionPeriod":
        """The month a date falls in (a moment: the month of its date in the registry's zone)."""
        if isinstance(day, datetime.datetime):
            day = day.astimezone(registry_zone()).date()
        return cls.month(day.year, day.month)

    @classmethod
    def interval(cls, start: datetime.datetime, end: datetime.datetime) -> "ProductionPeriod":
        """A granular (hourly or finer) certificate's period: at most one hour."""
        period = cls(start, end)
        if period.duration > LONGEST_INTERVAL:
            raise ValueError("A production period shorter than a month lasts at most one hour.")
        return period

    @classmethod
    def parse_month(cls, text: str | None) -> "ProductionPeriod | None":
        """`01/2020` (as users write it) or `2020-01` (the month input, the API) -> that month; None
        for anything else, or a year outside YEARS."""
        match = MONTH.match(text or "")
        if not match:
            return None
        month, year = (match[1], match[2]) if match[1] else (match[4], match[3])
        if not 1 <= int(month) <= 12 or int(year) not in YEARS:
            return None
        return cls.month(int(year), int(month))

    @classmethod
    def parse(cls, text: str | None) -> "ProductionPeriod | None":
        """A month (parse_month), or an ISO 8601 interval with offsets,
        `2026-01-01T10:00:00-06:00/2026-01-01T11:00:00-06:00` (at most one hour); None otherwise."""
        month = cls.parse_month(text)
        if month is not None or "/" not in (text or ""):
            return month
        try:
            start, end = (datetime.datetime.fromisoformat(part.strip()) for part in text.split("/"))
            return cls.interval(start, end)
        except ValueError:
            return None

    # What it is.

    @property
    def is_month(self) -> bool:
        """Whether this is one calendar month of the registry's zone (a monthly certificate's)."""
        return _texts(self.start, self.end, settings.TIME_ZONE).is_month

    @property
    def year(self) -> int:
        """The year it starts in, in the registry's zone (a retirement's compliance period by default)."""
        return self.start.astimezone(registry_zone()).year

    @property
    def first_day(self) -> datetime.date:
        """The date it starts on, in the registry's zone (a month's first day)."""
        return self.start.astimezone(registry_zone()).date()

    @property
    def last_day(self) -> datetime.date:
        """The date of its last moment, in the registry's zone (a month's last day; an hour's own day, or
        the next one for an hour across midnight)."""
        return (self.end - datetime.timedelta(microseconds=1)).astimezone(registry_zone()).date()

    def contains(self, other: "ProductionPeriod | datetime.datetime") -> bool:
        """Whether a period (all of it) or a moment falls within this one."""
        if isinstance(other, ProductionPeriod):
            return self.start <= other.start and other.end <= self.end
        return self.start <= other < self.end

    @property
    def duration(self) -> datetime.timedelta:
        """How long it lasts, in elapsed time (a month with a 25-hour local day is an hour longer). In UTC:
        Python subtracts two moments of one zone by their wall clocks."""
        return self.end.astimezone(datetime.UTC) - self.start.astimezone(datetime.UTC)

    @property
    def hours(self) -> list["ProductionPeriod"]:
        """The whole hours it is made of, in order (a month of the registry's zone: 743, 744 or 745 with a
        daylight-saving change): elapsed hours from its start, which may not fall on a whole hour."""
        count, rest = divmod(self.duration, LONGEST_INTERVAL)
        if rest:
            raise ValueError("A period of whole hours only.")
        start = self.start.astimezone(datetime.UTC)  # elapsed hours, not the wall clock's
        return [ProductionPeriod(start + index * LONGEST_INTERVAL, start + (index + 1) * LONGEST_INTERVAL)
                for index in range(count)]

    def expiry(self) -> datetime.datetime:
        """When a certificate of this interval expires: settings.CERTIFICATE_EXPIRY_YEARS after its end, on
        the same date and time in the registry's zone (February 29 -> February 28)."""
        local = self.end.astimezone(registry_zone())
        year = local.year + settings.CERTIFICATE_EXPIRY_YEARS
        try:  # the zone's wall time: its offset is the one of that date
            return local.replace(year=year)
        except ValueError:  # February 29 in a year without one
            return local.replace(year=year, day=28)

    def overlaps(self, other: "ProductionPeriod") -> bool:
        """Whether the two share any moment (what the database refuses for one generator's issuances)."""
        return self.start < other.end and other.start < self.end

    # How it is written.

    def __str__(self) -> str:
        """What people read (pages, emails, PDFs, the admin): `01/2020` for a month; an interval as its date
        and wall-clock times in the registry's zone, named by the zone's abbreviation,
        `11/01/2026 01:00–02:00 CST` (interval_shown has the rules that keep it unambiguous)."""
        return _texts(self.start, self.end, settings.TIME_ZONE).shown

    @property
    def shown_day(self) -> str:
        """The date an interval's shown text starts with, `11/01/2026` (clock_text is the rest: a table may
        wrap the two apart); "" for a month."""
        texts = _texts(self.start, self.end, settings.TIME_ZONE)
        return "" if texts.is_month else texts.shown.split(" ", 1)[0]

    @property
    def clock_text(self) -> str:
        """An interval's shown text after its date (shown_day), `01:00 CDT–01:00 CST`; a month's, as str."""
        texts = _texts(self.start, self.end, settings.TIME_ZONE)
        return texts.shown if texts.is_month else texts.shown.split(" ", 1)[1]

    @property
    def start_clock_text(self) -> str:
        """When it starts on the registry's wall clock, with the zone's abbreviation, `01:00 CDT`: what tells
        the hours of one day apart (the fall-back night's 01:00 CDT and 01:00 CST) where a chart has room
        for a short label only."""
        local = self.start.astimezone(registry_zone())
        return f"{local:%H:%M} {local.tzname()}"

    @property
    def data_text(self) -> str:
        """What files and records write, for machines as well as people (the CSV downloads, a retirement's
        public record): `01/2020` for a month, as the pages; an interval in ISO 8601 with offsets, in the
        registry's zone, which any program reads back (ProductionPeriod.parse) and whose record digest does
        not change with the pages' wording."""
        return _texts(self.start, self.end, settings.TIME_ZONE).data

    @property
    def api_text(self) -> str:
        """What the API writes: `2020-01` for a month, an ISO 8601 interval otherwise."""
        return _texts(self.start, self.end, settings.TIME_ZONE).api

    @property
    def serial_text(self) -> str:
        """The part of a serial base that names the period: `01-2020` for a month; the start in UTC,
        `20260101T1600Z`, for an interval (a generator's intervals never overlap, so it is unique)."""
        if self.duration <= LONGEST_INTERVAL:  # an interval, told apart without a month's texts (intervals_write)
            return _interval_serial_text(self.start)
        return _texts(self.start, self.end, settings.TIME_ZONE).serial

    # How the database holds it.

    def as_range(self) -> DateTimeTZRange:
        return DateTimeTZRange(self.start, self.end, "[)")


def shortest_interval() -> datetime.timedelta:
    """The shortest interval a granular generator's generation may be reported for (the registry's setting)."""
    return datetime.timedelta(minutes=settings.GRANULAR_INTERVAL_MINUTES)


def interval_refusal(start: datetime.datetime, end: datetime.datetime) -> str | None:
    """Why [start, end) cannot be a granular certificate's interval, in plain words; None if it can: it ends
    after it starts, lasts at most an hour and at least the registry's shortest interval, in whole
    multiples of it, and lies within one month of the registry's zone (the month its issuance runs in)."""
    if start.tzinfo is None or end.tzinfo is None:
        return "Give the time with its offset from UTC, e.g. 2026-01-01T10:00:00-06:00."
    if not start < end:
        return "The interval ends before it starts, or when it starts."
    period = ProductionPeriod(start, end)
    length, shortest = period.duration, shortest_interval()
    if length > LONGEST_INTERVAL or length < shortest or length % shortest:
        return f"The interval lasts {_minutes(length)}; an interval lasts {interval_rule_text()}."
    if not ProductionPeriod.month_of(start).contains(period):
        return "The interval runs into the next month; split it at midnight of the month's first day."
    return None


def interval_rule_text() -> str:
    """How long an interval lasts in this registry, as the pages and refusals say it."""
    shortest = shortest_interval()
    if shortest >= LONGEST_INTERVAL:
        return "one hour"
    return f"at most one hour, in steps of {_minutes(shortest)}"


def _minutes(length: datetime.timedelta) -> str:
    minutes = length.total_seconds() / 60
    return f"{minutes:g} minute{'' if minutes == 1 else 's'}" if minutes < 60 or minutes % 60 else \
        f"{minutes / 60:g} hour{'' if minutes == 60 else 's'}"


def period_shown(data_text: str) -> str:
    """A period's data_text (as a CSV or a frozen record holds it) as people read it, str(period); a text
    that is no period, e.g. a record's vintage written before data_text, as it is."""
    period = ProductionPeriod.parse(data_text)
    return data_text if period is None else str(period)


def interval_shown(local_start: datetime.datetime, local_end: datetime.datetime) -> str:
    """An interval as people read it, from its two bounds in the registry's zone: the start's date as
    MM/DD/YYYY (the vintage month's MM/YYYY, with its day), the wall-clock times, and the zone's
    abbreviation: `11/01/2026 01:00–02:00 CST`. Where the two ends differ in abbreviation (a
    daylight-saving change), each end names its own, so the repeated hour of a fall-back night reads
    `11/01/2026 01:00 CDT–01:00 CST`, and the hour skipped in spring `03/08/2026 01:00 CST–03:00 CDT`. An
    interval ending at midnight ends `24:00` (its own date's last hour, not the next day's), one that
    runs past midnight names the end's date too, and seconds show only where a bound has them."""
    with_seconds = any(moment.second or moment.microsecond for moment in (local_start, local_end))
    clock = "%H:%M:%S" if with_seconds else "%H:%M"
    start_zone, end_zone = local_start.tzname(), local_end.tzname()
    start = local_start.strftime(f"%m/%d/%Y {clock}")  # the date, then one space: clock_text cuts there
    if local_end.date() == local_start.date():
        end = local_end.strftime(clock)
    elif local_end.date() == local_start.date() + datetime.timedelta(days=1) and local_end.time() == datetime.time():
        end = "24:00:00" if with_seconds else "24:00"
    else:
        end = local_end.strftime(f"%m/%d/%Y {clock}")
    if start_zone == end_zone:
        return f"{start}–{end} {end_zone}"
    return f"{start} {start_zone}–{end} {end_zone}"


class _Texts(NamedTuple):
    is_month: bool
    shown: str
    data: str
    api: str
    serial: str


@functools.lru_cache(maxsize=4096)
def _texts(start: datetime.datetime, end: datetime.datetime, zone_name: str) -> _Texts:
    """A period's texts, worked out once for each period and zone: a download or an API page writes the
    same few months on every row. Worked out each time, a row's period took 26 µs (2.6 s for the CSV of
    100,000 batches); looked up, 2.5 µs with the period's making, where the date's strftime took 6 µs
    (timeit, on the shared 2-core VM)."""
    zone = zoneinfo.ZoneInfo(zone_name)  # the registry's, as ProductionPeriod.month reads it
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if ProductionPeriod(start, end) == ProductionPeriod.month(local_start.year, local_start.month):
        month = f"{local_start:%m/%Y}"
        return _Texts(True, month, month, f"{local_start:%Y-%m}", f"{local_start:%m-%Y}")
    interval = f"{local_start.isoformat()}/{local_end.isoformat()}"
    return _Texts(False, interval_shown(local_start, local_end), interval, interval, _interval_serial_text(start))


def _interval_serial_text(start: datetime.datetime) -> str:
    """An interval's part of a serial base: its start in UTC (ProductionPeriod.serial_text)."""
    return f"{start.astimezone(datetime.UTC):%Y%m%dT%H%MZ}"


def periods_from(field: str, period: ProductionPeriod) -> Q:
    """The rows whose period (a ProductionPeriodField named `field`) starts in `period` or later."""
    return periods_starting_from(field, period.start)


def periods_until(field: str, period: ProductionPeriod) -> Q:
    """The rows whose period (a ProductionPeriodField named `field`) ends with `period` or earlier."""
    return periods_ending_by(field, period.end)


def periods_starting_from(field: str, moment: datetime.datetime) -> Q:
    """The rows whose period starts at `moment` or later.

    Written as a comparison of the period itself, `period >= '[moment,moment]'`, not `lower(period) >=
    moment`: the same rows (ranges order by their lower bound first, and every period is a non-empty
    [start, end): the column's CHECK), but the btree on the period serves it, the index that also gives the
    dashboard its order (newest first). With lower(), the planner walked that index from the newest period
    and filtered: a week of June among a year of 1,007,400 hourly batches took 178 ms (bench/hourly_filters.py)."""
    return Q(**{f"{field}__gte": DateTimeTZRange(moment, moment, "[]")})


def periods_ending_by(field: str, moment: datetime.datetime) -> Q:
    """The rows whose period ends at `moment` or earlier; and so starts before it, which bounds the period
    index's scan as periods_starting_from does (the rows are the same: a period starts before it ends)."""
    return Q(**{f"{field}__endswith__lte": moment, f"{field}__lt": DateTimeTZRange(moment, moment, "[]")})


class PeriodLength(Func):
    """How long a period lasts (upper - lower): an interval's at most LONGEST_INTERVAL, a month's far more."""

    template = "(UPPER(%(expressions)s) - LOWER(%(expressions)s))"
    output_field = DurationField()


class Lower(Func):
    """A period's start (lower(period)): its moment alone, which psycopg reads faster than the range."""
    function = "LOWER"
    output_field = DateTimeField()


class Upper(Func):
    """A period's end (upper(period))."""
    function = "UPPER"
    output_field = DateTimeField()


class StartHour(Func):
    """The hour of day (0 to 23) a period starts in, on the wall clock of `zone` (the registry's, by
    default): date_part('hour', timezone(zone, lower(period))), immutable, so that an index holds it
    (certificates migration: the index on the certificates' start hour, made in the registry's zone of
    the day it ran; a query in another zone reads the same rows, without that index)."""

    function = "DATE_PART"
    output_field = IntegerField()

    def __init__(self, expression, zone: str | None = None, **extra):
        local = Func(Value(zone or settings.TIME_ZONE), Lower(expression), function="TIMEZONE",
                     output_field=DateTimeField())
        super().__init__(Value("hour"), local, **extra)


def interval_periods(field: str) -> Q:
    """The rows whose period is an interval of at most an hour (a granular certificate's), not a month."""
    return Q(LessThanOrEqual(PeriodLength(F(field)), LONGEST_INTERVAL))


def periods_starting_in_hour(field: str, hour: int) -> Q:
    """The rows whose period is an interval (at most an hour: not a month) starting in `hour` (0 to 23) of
    the day in the registry's zone, e.g. 14 for 14:00 to 15:00 (and 14:15 to 14:30)."""
    return Q(Exact(StartHour(F(field)), hour)) & interval_periods(field)


class ProductionPeriodField(DateTimeRangeField):
    """A ProductionPeriod in a tstzrange column, [start, end). Reads give a ProductionPeriod; writes and
    lookups take one (or a psycopg Range). Ordering by it orders by start, then end, as the type does."""

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return ProductionPeriod(value.lower, value.upper)

    def to_python(self, value):
        if isinstance(value, ProductionPeriod) or value is None:
            return value
        if isinstance(value, str):
            return ProductionPeriod.parse(value)
        return ProductionPeriod(value.lower, value.upper)

    def get_prep_value(self, value):
        if isinstance(value, ProductionPeriod):
            return value.as_range()
        return super().get_prep_value(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else value.data_text  # what to_python reads back
