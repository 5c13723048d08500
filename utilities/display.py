"""Dates, date-times and numbers as Python code writes them (CSV and PDF downloads, email subjects,
admin columns, messages): the same text the templates get from |date:"DATETIME_FORMAT",
|date:"DATE_FORMAT" and |floatformat:"g", from the one definition in portal/formats/en/formats.py.
A production period writes itself (certificates.periods.ProductionPeriod). The API and its webhooks
write moments one way of their own: iso_utc."""

import datetime

from django.template.defaultfilters import floatformat
from django.utils import formats, timezone
from django.utils.translation import ngettext


def datetime_text(moment: datetime.datetime | None) -> str:
    """`2026-12-01 14:05 CST`: in the current time zone (the reader's), which it names."""
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


def iso_utc(moment: datetime.datetime | None) -> str | None:
    """`2026-12-01T20:05:00.123456Z`: a moment as the API and its webhooks write it, ISO 8601 in UTC
    (the same text as the API's serializer fields, which write in UTC: api.views)."""
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if moment else None


def date_text(moment: datetime.datetime | datetime.date | None) -> str:
    """`2026-12-01`: a date, or the date a moment falls on in the current time zone."""
    if moment is None:
        return ""
    if isinstance(moment, datetime.datetime):
        moment = timezone.localdate(moment)
    return formats.date_format(moment, "DATE_FORMAT")


def number_text(number: int | None) -> str:
    """`45,855`: a quantity or a count, grouped in thousands."""
    return "" if number is None else floatformat(number, "g")


def count_text(count: int, singular: str, plural: str = "") -> str:
    """`1 batch`, `45,855 batches`: a count and the words it decides (`plural`: `singular` + "s" if not
    given), never "batch(es)" nor "1 batches"."""
    return f"{number_text(count)} {ngettext(singular, plural or singular + 's', count)}"


def bytes_text(size: int) -> str:
    """`2.5 MB` (MB of 2^20 bytes, as Django's upload limits count), or `1,000 bytes` below one MB."""
    if size < 2**20:
        return f"{number_text(size)} bytes"
    return f"{floatformat(size / 2**20, '-1')} MB"
