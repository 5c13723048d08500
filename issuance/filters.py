"""Filters of the interval readings (the API's list of them): a generator, an interval range, as the
dashboard's batches filter theirs (certificates.filters)."""

import django_filters

from certificates.filters import IntervalFilter

from .models import IntervalReading


class IntervalReadingFilter(django_filters.FilterSet):
    """Applied to the readings an organization may read (issuance.selectors.interval_readings_for)."""

    generator = django_filters.CharFilter(field_name="generator__code", lookup_expr="iexact", label="Generator ID")
    interval_from = IntervalFilter(field_name="period", label="Interval from")
    interval_to = IntervalFilter(field_name="period", until=True, label="Interval to")
    status = django_filters.ChoiceFilter(choices=IntervalReading.Status.choices, empty_label="Any status")

    class Meta:
        model = IntervalReading
        fields: list[str] = []
