import re

import django_filters
from django import forms
from django.db.models import Q

from registry.models import Organization
from utilities.filters import DateRangeForm, DayFilter
from utilities.parsing import positive_integer
from utilities.sorting import sorted_by_column

from .models import Transfer

# What the Transactions tab lists can be in any status but these: a draft, or a draft that failed,
# was never submitted and is not a transaction.
LISTED_STATUSES = [(value, label) for value, label in Transfer.Status.choices
                   if value not in (Transfer.Status.DRAFT, Transfer.Status.FAILED)]

# "Transfer 1042" and "#1042" as the pages write a transfer's id, or just 1042.
TRANSFER_ID_PREFIX = re.compile(r"^\s*(?:transfer)?\s*#?", re.IGNORECASE)
# The same as a pattern (JSON Schema's, for the API's schema), or nothing (no filter): a number from 1
# to bigint's (utilities.parsing.positive_integer), up to 18 digits here.
TRANSFER_ID_PATTERN = "^$|^([Tt]ransfer ?)?#?[1-9][0-9]{0,17}$"


class TransferIdField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        transfer_id = positive_integer(TRANSFER_ID_PREFIX.sub("", value))
        if transfer_id is None:
            raise forms.ValidationError("Enter a transfer ID as a whole number, e.g. 1042.")
        return transfer_id


class TransferIdFilter(django_filters.Filter):
    field_class = TransferIdField


class SubmittedDateFilter(DayFilter):
    """A day of submission (see DayFilter)."""

    def __init__(self, *args, field_name="submitted_at", **kwargs):
        super().__init__(*args, field_name=field_name, **kwargs)



class TransactionFilter(django_filters.FilterSet):
    """Filters of the dashboard's Transactions tab, applied to the organization's transactions."""

    kind = django_filters.ChoiceFilter(
        choices=Transfer.Kind.choices, empty_label="All types", label="Type",
        error_messages={"invalid_choice": "There is no transfer type “%(value)s”: choose one from the list."})
    status = django_filters.ChoiceFilter(
        choices=LISTED_STATUSES, empty_label="All statuses", label="Status",
        error_messages={"invalid_choice": "There is no transaction status “%(value)s”: choose one from the list."})
    counterparty = django_filters.CharFilter(method="filter_counterparty", label="Counterparty")
    submitted_from = SubmittedDateFilter(lookup_expr="gte", label="Submitted from")
    submitted_to = SubmittedDateFilter(lookup_expr="lte", label="Submitted to")
    transfer = TransferIdFilter(field_name="pk", label="Transfer ID")
    notes = django_filters.CharFilter(field_name="notes", lookup_expr="icontains", label="Notes contain")

    class Meta:
        model = Transfer
        fields: list[str] = []
        form = DateRangeForm

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.form.fields["counterparty"].widget.attrs.update(placeholder="Name, MM ID or tracking system")
        self.form.fields["transfer"].widget.attrs.update(inputmode="numeric")

    def filter_counterparty(self, queryset, name, value):
        """The other side: the sender of a transfer received; the recipient organization of one
        sent, or the tracking system (or the recipient there) of an export. By name or a part of its
        MM id. An internal transfer or a retirement has no other side."""
        value = value.strip()
        sender = Q(organization__name__icontains=value) | Q(organization__public_id__icontains=value)
        recipient = (Q(recipient_organization__name__icontains=value)
                     | Q(recipient_organization__public_id__icontains=value))
        export = Q(kind=Transfer.Kind.EXPORT) & (Q(tracking_system__code__icontains=value)
                                                 | Q(tracking_system__name__icontains=value)
                                                 | Q(recipient_name__icontains=value))
        return queryset.filter((Q(recipient_organization=self.organization) & sender)
                               | (Q(organization=self.organization) & (recipient | export)))


# Each column a user can sort by, and what it sorts on (transactions_for annotates the labels, the
# quantity and the counterparty).
SORTS = {
    "id": ("pk",),
    "date": ("submitted_at",),
    "kind": ("kind_label",),
    "status": ("status",),
    "quantity": ("total_quantity",),
    "counterparty": ("counterparty_name",),
}
DEFAULT_SORT = "-date"


def transactions_sorted(queryset, sort: str):
    return sorted_by_column(queryset, sort, SORTS, DEFAULT_SORT)
