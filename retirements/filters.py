"""The Retired tab's filters and sorts (the transactions' date filter and default sort reused)."""

import django_filters
from django import forms

from transfers.filters import DEFAULT_SORT, SubmittedDateFilter
from utilities.filters import DateRangeForm, NamedChoiceFilter
from utilities.sorting import sorted_by_column

from .models import Retirement, RetirementOption


class YearFilter(django_filters.NumberFilter):
    """A year: a whole number (a decimal, 2024.5, is refused rather than matching nothing)."""

    field_class = forms.IntegerField


class RetirementFilter(django_filters.FilterSet):
    """Filters of the dashboard's Retired tab, applied to the organization's retirements."""

    # By its name, as a retirement shows it and the API's retirement body names it.
    option = NamedChoiceFilter(
        queryset=RetirementOption.objects.all(), to_field_name="name", empty_label="All options",
        label="Counts toward",
        error_messages={"invalid_choice": "There is no retirement option named “%(value)s”: choose one from the "
                                          "list."})
    compliance_period = YearFilter(
        label="Compliance period", error_messages={"invalid": "Enter the year as four digits, e.g. 2024."})
    beneficiary = django_filters.CharFilter(lookup_expr="icontains", label="Beneficiary")
    submitted_from = SubmittedDateFilter(field_name="transfer__submitted_at", lookup_expr="gte", label="Retired from")
    submitted_to = SubmittedDateFilter(field_name="transfer__submitted_at", lookup_expr="lte", label="Retired to")

    class Meta:
        model = Retirement
        fields: list[str] = []
        form = DateRangeForm


RETIREMENT_SORTS = {
    "reference": ("reference",),
    "date": ("transfer__submitted_at",),
    "option": ("option__name",),
    "period": ("compliance_period",),
    "beneficiary": ("beneficiary",),
    "quantity": ("total_quantity",),
    "organization": ("transfer__organization__name",),  # a regulator's column: who retired
}


def retirements_sorted(queryset, sort: str):
    return sorted_by_column(queryset, sort, RETIREMENT_SORTS, DEFAULT_SORT)
