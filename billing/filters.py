"""Filters of an organization's charges (the API's /api/v1/charges/): the billing period a month
falls in, invoiced or not, and the invoice they are on."""

import re

import django_filters
from django import forms

from certificates.filters import MonthField

from .values import day_start, period_of

# "INV-000041" as the invoices print their number, or just 41.
INVOICE_NUMBER = re.compile(r"^\s*(?:INV-?)?0*([1-9][0-9]{0,17})\s*$", re.IGNORECASE)
INVOICE_PATTERN = "^$|^([Ii][Nn][Vv]-?)?0*[1-9][0-9]{0,17}$"


class InvoiceNumberField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        match = INVOICE_NUMBER.match(value)
        if match is None:
            raise forms.ValidationError("Enter an invoice number as printed, e.g. INV-000041, or 41.")
        return int(match[1])


class InvoiceNumberFilter(django_filters.Filter):
    field_class = InvoiceNumberField


class BillingPeriodFilter(django_filters.Filter):
    """The charges that happened in the billing period (BILLING_PERIOD_MONTHS) a month falls in."""

    field_class = MonthField

    def filter(self, queryset, value):
        if value is None:
            return queryset
        period = period_of(value.start.date())
        return queryset.filter(occurred_at__gte=day_start(period.start), occurred_at__lt=day_start(period.end))


class ChargeFilter(django_filters.FilterSet):
    period = BillingPeriodFilter(label="Billing period",
                                 help_text="A month, YYYY-MM or MM/YYYY: the charges of the billing period it is in.")
    # A choice, not a BooleanFilter: that one takes any other text as no filter at all.
    invoiced = django_filters.ChoiceFilter(
        choices=[("true", "On an invoice"), ("false", "Not yet invoiced")], method="filter_invoiced",
        label="Invoiced", help_text="true: on an invoice; false: the current period's so far.",
        error_messages={"invalid_choice": "Enter true or false."})
    invoice = InvoiceNumberFilter(field_name="invoice__number", label="Invoice",
                                  help_text="The invoice they are on: INV-000041, or 41.")

    def filter_invoiced(self, queryset, name, value):
        return queryset.filter(invoice__isnull=value != "true")
