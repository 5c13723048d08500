"""A period's texts read from its two bounds, for the lists that write a period on every row of thousands
(the CSV download, the API's batches list).

The rows come with the period's two bounds (`certificate__period__startswith`, `__endswith`: plain
timestamps; the range column read as a ProductionPeriod costs ~20 us a row, bench/dashboard.py), and each
distinct period is worded once by ProductionPeriod (the one definition of its texts) and kept in a cache
of the process that is emptied when it is full: a month's batches share one period, an hour's share it
with the other generators' of that hour, and a listing of 1,000,000 hourly batches keeps its memory flat
(bench/scale_reads.py: a dict of every certificate's period grew the process by 460 MB). The periods
module's own cache of texts holds 4,096 periods, fewer than a year of hours: a listing in id order (a
generator's hours, then the next generator's) missed it on every row."""

import datetime
from typing import NamedTuple

from django.conf import settings

from .periods import ProductionPeriod

PERIOD_TEXTS_KEPT = 20_000  # more than two years of hours; ~6 MB


class PeriodTexts(NamedTuple):
    api: str  # what the API writes: ProductionPeriod.api_text
    data: str  # what the CSV downloads write: ProductionPeriod.data_text


_kept: dict[tuple[datetime.datetime, datetime.datetime, str], PeriodTexts] = {}


def period_texts(start: datetime.datetime, end: datetime.datetime) -> PeriodTexts:
    """The texts of the period [start, end) (its bounds as the database gives them), worded once."""
    key = (start, end, settings.TIME_ZONE)  # a month's texts are of the registry's zone (tests change it)
    texts = _kept.get(key)
    if texts is None:
        if len(_kept) >= PERIOD_TEXTS_KEPT:
            _kept.clear()
        period = ProductionPeriod(start, end)
        texts = _kept[key] = PeriodTexts(period.api_text, period.data_text)
    return texts
