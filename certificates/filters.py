import datetime
from collections.abc import Callable
from functools import partial

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import cached_property

from accounts.models import Account
from utilities.filters import NamedChoiceFilter
from utilities.parsing import positive_integer
from utilities.sorting import sorted_by_column

from .models import CertificateBatch, FuelType, GeneratorEligibility
from .periods import (
    MONTH_HELP,
    ProductionPeriod,
    periods_ending_by,
    periods_from,
    periods_starting_from,
    periods_starting_in_hour,
    periods_until,
)


class MonthField(forms.CharField):
    """A month, MM/YYYY or YYYY-MM: cleaned to a ProductionPeriod."""

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        month = ProductionPeriod.parse_month(value)
        if month is None:
            raise forms.ValidationError(MONTH_HELP)
        return month


class PeriodBoundFilter(django_filters.Filter):
    """Periods from a value on, or (`until`) up to it, by the period lookups of certificates.periods
    (`bounds`: the one from, the one until); a subclass names its field and lookups."""

    bounds: tuple[Callable, Callable]

    def __init__(self, *args, until: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.until = until

    def filter(self, queryset, value):
        if value is None:
            return queryset
        return queryset.filter(self.bounds[self.until](self.field_name, value))


class MonthFilter(PeriodBoundFilter):
    """Periods from a month on (`from_month`), or up to the end of a month: an hourly certificate's
    period filters as its month's would."""

    field_class = MonthField
    bounds = (periods_from, periods_until)


class MomentField(forms.DateTimeField):
    """A moment, ISO 8601 (`2026-11-03T14:00`, or with its offset, `2026-11-03T14:00-06:00`); one without
    an offset is read in the current time zone: the reader's on the pages (a datetime-local input), UTC
    in the API."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
    input_formats = ["iso-8601"]
    default_error_messages = {"invalid": "Enter a date and time, e.g. 2026-11-03T14:00 or 2026-11-03T14:00-06:00."}

    def to_python(self, value):
        value = value.strip() if isinstance(value, str) else value
        if isinstance(value, str):
            try:  # ISO 8601's own; Django's fallback formats take "2026-11-03 14:00" too
                moment = datetime.datetime.fromisoformat(value)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is None:
                moment = timezone.make_aware(moment)
            if moment is not None:
                return moment
        return super().to_python(value)


class IntervalFilter(PeriodBoundFilter):
    """Periods starting at a moment or later (`interval_from`), or ending at a moment or earlier (`until`):
    an hourly certificate's interval, or a month wholly inside the range."""

    field_class = MomentField
    bounds = (periods_starting_from, periods_ending_by)


HOURS = [(str(hour), f"{hour:02d}:00–{(hour + 1) % 24:02d}:00") for hour in range(24)]


class HourFilter(django_filters.ChoiceFilter):
    """Intervals (not months) starting in an hour of the day, 0 to 23, in the registry's time zone
    (settings.TIME_ZONE: certificates.periods.StartHour), whatever the reader's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=HOURS, empty_label="Any hour", **kwargs)

    def filter(self, queryset, value):
        if value in ("", None):
            return queryset
        return queryset.filter(periods_starting_in_hour(self.field_name, int(value)))


class QuantityFilter(django_filters.NumberFilter):
    """A whole number, as quantities are. The default decimal field lets -1e999999999 through, which
    the lookup turns into an integer of a billion digits: minutes of a worker's CPU."""

    field_class = forms.IntegerField


SORTS = {
    "serial": ("certificate__serial_base", "serial_start"),
    "quantity": ("quantity",),
    "account": ("account__name",),
    "generator": ("certificate__generator__code",),
    "fuel": ("certificate__fuel_type",),
    "state": ("certificate__state",),
    "vintage": ("certificate__period", "certificate_id", "serial_start"),
    "issued": ("certificate__issued_at",),
}
DEFAULT_SORT = "-vintage"


class ChoicesWhenDrawn(BaseChoiceIterator):
    """A select's options from `options()`, asked for only when the select is drawn (not for a
    partial that leaves the filters out, nor for the API), and then once: the widget reads them twice."""

    def __init__(self, options):
        self.options = options

    @cached_property
    def drawn(self) -> list:
        return list(self.options())

    def __iter__(self):
        return iter(self.drawn)


class BatchFilter(django_filters.FilterSet):
    """Filters of the dashboard, applied to a queryset already scoped to the organization."""

    # By its public id (ACT-00031), as every page and the API show an account.
    account = NamedChoiceFilter(
        queryset=Account.objects.none(), to_field_name="public_id", empty_label="All accounts",
        error_messages={"invalid_choice": "None of your accounts has the id “%(value)s”: give one of your "
                                          "accounts' ids, e.g. ACT-00031."})
    generator = django_filters.CharFilter(method="filter_generator", label="Generator")
    fuel = django_filters.ChoiceFilter(field_name="certificate__fuel_type", choices=FuelType.choices,
                                       empty_label="All fuels", label="Fuel")
    state = django_filters.CharFilter(method="filter_state", label="State / province")
    eligibility = django_filters.ChoiceFilter(method="filter_eligibility", label="Eligibility",
                                              empty_label="Any eligibility")
    vintage_from = MonthFilter(field_name="certificate__period", label="Vintage from")
    vintage_to = MonthFilter(field_name="certificate__period", until=True, label="Vintage to")
    interval_from = IntervalFilter(field_name="certificate__period", label="Interval from")
    interval_to = IntervalFilter(field_name="certificate__period", until=True, label="Interval to")
    hour = HourFilter(field_name="certificate__period", label="Hour of day")
    serial = django_filters.CharFilter(method="filter_serial", label="Serial number contains")
    quantity_min = QuantityFilter(field_name="quantity", lookup_expr="gte", label="Quantity from")
    quantity_max = QuantityFilter(field_name="quantity", lookup_expr="lte", label="Quantity to")

    class Meta:
        model = CertificateBatch
        fields: list[str] = []

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        # Any of the organization's accounts filters (a link, the API); the select offers fewer.
        self.filters["account"].queryset = Account.objects.of(organization)
        self.form.fields["account"].widget.choices = ChoicesWhenDrawn(partial(
            account_choices, organization=organization, batches=self.queryset,
            # No stored public id holds a NUL, and PostgreSQL refuses one in a query: such a choice is none.
            chosen=(self.data.get("account") or "").strip().upper().replace("\x00", "") if self.is_bound else ""))
        eligibilities = eligibility_choices()  # one query for the filter and its form field
        self.filters["eligibility"].extra["choices"] = eligibilities
        self.form.fields["eligibility"].choices = eligibilities  # the field adds its empty_label itself
        for name in ("vintage_from", "vintage_to"):
            self.form.fields[name].widget.attrs.update(placeholder="MM/YYYY", size=8)
        # Hours of day are the registry's (its zone names them on the pages), whatever the reader's zone.
        self.form.fields["hour"].label = f"Hour of day ({settings.TIME_ZONE})"

    def filter_generator(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(certificate__generator__code__iexact=value)
                               | Q(certificate__generator__name__icontains=value))

    def filter_state(self, queryset, name, value):
        return queryset.filter(certificate__state=value.strip().upper())

    def filter_eligibility(self, queryset, name, value: str):
        return queryset.filter(certificate__eligibilities__contains=[value])

    def filter_serial(self, queryset, name, value):
        value = value.strip()
        serial = positive_integer(value)
        if serial is not None:  # a serial number inside the batch's range
            return queryset.filter(serial_start__lte=serial, serial_end__gte=serial)
        return queryset.filter(certificate__serial_base__icontains=value)


def account_choices(*, organization, batches, chosen: str) -> list[tuple[str, str]]:
    """The Account filter's options (computed only when the select is drawn): the organization's open
    accounts, then its frozen ones, marked; no closed account, unless it still holds some of `batches`
    (the tab's: a closed account held no active or pending certificate when it was closed, but keeps
    what it exported) or is the one chosen (by its public id), marked closed."""
    accounts = (Account.objects.of(organization).open_first()
                .annotate(holds=Exists(batches.filter(account=OuterRef("pk"))))
                .filter(~Q(status=Account.Status.CLOSED) | Q(holds=True) | Q(public_id=chosen)))
    return [("", "All accounts"), *(
        (account.public_id, str(account) if account.status == Account.Status.OPEN
         else f"{account}, {account.get_status_display().lower()}") for account in accounts)]


def eligibility_choices() -> list[tuple[str, str]]:
    """Every eligibility recorded for a generator of the registry (what certificates carry; a short list)."""
    names = sorted(GeneratorEligibility.objects.order_by().values_list("name", flat=True).distinct())
    return [(name, name) for name in names]


def batches_sorted(queryset, sort: str):
    # Descending on a column, serials within it stay in ascending order.
    return sorted_by_column(queryset, sort, SORTS, DEFAULT_SORT)
