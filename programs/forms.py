from django import forms

from accounts.forms import NAME_ERRORS
from registry.models import Organization
from utilities.filters import NamedChoiceField


class ParticipantInviteForm(forms.Form):
    """The organization to invite to a program, by its Organization ID (MM00412), as counterparties
    give it."""

    organization = NamedChoiceField(
        label="Organization ID", to_field_name="public_id",
        queryset=Organization.objects.filter(kind=Organization.Kind.PARTICIPANT),
        error_messages={"required": "Enter the Organization ID of the organization to invite, e.g. MM00412.",
                        "invalid_choice": "No participant has the Organization ID “%(value)s”: check it with the "
                                          "organization."})


class ProgramAccountOpenForm(forms.Form):
    name = forms.CharField(label="Account name", max_length=200, error_messages=NAME_ERRORS)
