"""What every list page's filter shares: a day in the reader's time zone as one end of a range, the
form that checks the range's ends are in order, a choice named by its public id or name, and the
answer to a download whose filter is wrong."""

import datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.utils import timezone
from django_filters.fields import ModelChoiceField


class DayFilter(django_filters.DateFilter):
    """A day, in the time zone the page is shown in: from its first moment (`gte`) or up to its last
    (`lte`). A range on the column itself, so the column's own order serves it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": "Enter a date as YYYY-MM-DD, e.g. 2025-03-31."}, **kwargs)

    def filter(self, queryset, value):
        if value is None:
            return queryset
        if self.lookup_expr == "lte":
            if value == datetime.date.max:
                return queryset
            return queryset.filter(**{f"{self.field_name}__lt": _day_starts(value + datetime.timedelta(days=1))})
        return queryset.filter(**{f"{self.field_name}__gte": _day_starts(value)})


class NamedChoiceField(ModelChoiceField):
    """A choice named by a text field of its model (the filter's `to_field_name`: a public id such as
    ACT-00031, or a name) as people and the API write it: in any case, blanks around it aside. The
    page's <select> posts that field too, so a page's address and an API query read the same."""

    def to_python(self, value):
        value = value.strip() if isinstance(value, str) else value
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        found = list(self.queryset.filter(**{f"{self.to_field_name}__iexact": value})[:2])
        if len(found) != 1:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                  params={"value": value})
        return found[0]


class NamedChoiceFilter(django_filters.ModelChoiceFilter):
    """A ModelChoiceFilter whose choice is named by `to_field_name` (see NamedChoiceField)."""

    field_class = NamedChoiceField


def _day_starts(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class DateRangeForm(forms.Form):
    """A filter form whose `RANGE` fields (first day, last day) must not be in reverse order."""

    RANGE = ("submitted_from", "submitted_to")

    def clean(self):
        cleaned = super().clean()
        first, last = self.RANGE
        start, end = cleaned.get(first), cleaned.get(last)
        if start and end and start > end:
            self.add_error(last, f"Enter a date on or after the “{self.fields[first].label}” date.")
        return cleaned


def download_refused(list_filter: django_filters.FilterSet) -> HttpResponse | None:
    """A download whose filter is not valid: 400 saying what to correct, rather than a file of
    every row (the page shows the same errors by the fields)."""
    if not list_filter.is_bound or list_filter.is_valid():
        return None
    problems = [f"{list_filter.form[name].label}: {' '.join(errors)}" for name, errors in list_filter.errors.items()]
    return HttpResponseBadRequest("Nothing was downloaded: correct the filter first.\n" + "\n".join(problems),
                                  content_type="text/plain; charset=utf-8")
