import django_filters

from ledger.models import LedgerEvent
from utilities.filters import DateRangeForm, DayFilter

from .activity import LOGGED_KINDS
from .models import Organization
from .selectors import acted_for, activity_people


class ActivityFilterForm(DateRangeForm):
    RANGE = ("occurred_from", "occurred_to")


class ActivityFilter(django_filters.FilterSet):
    """Filters of the organization's activity log, applied to registry.selectors.activity_of."""

    kind = django_filters.ChoiceFilter(
        choices=[(kind.value, kind.label) for kind in LOGGED_KINDS], empty_label="All kinds", label="Kind",
        error_messages={"invalid_choice": "There is no kind of activity “%(value)s”: choose one from the list."})
    person = django_filters.ModelChoiceFilter(
        queryset=None, method="filter_person", empty_label="Everyone", label="Person",
        error_messages={"invalid_choice": "That person has no activity in this organization: choose one from "
                                          "the list."})
    occurred_from = DayFilter(field_name="occurred_at", lookup_expr="gte", label="From")
    occurred_to = DayFilter(field_name="occurred_at", lookup_expr="lte", label="To")

    class Meta:
        model = LedgerEvent
        fields: list[str] = []
        form = ActivityFilterForm

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.filters["person"].queryset = activity_people(organization)

    def filter_person(self, queryset, name, user):
        """What the person did for this organization (not what they did for another one)."""
        return queryset.filter(acted_for(self.organization), actor=user)
