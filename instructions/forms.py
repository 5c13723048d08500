from decimal import Decimal

from django import forms

from accounts.models import Account
from certificates.filters import MonthField
from certificates.models import FuelType, Generator
from registry.models import Organization
from retirements.forms import OfferedOptionField
from retirements.services import FIRST_COMPLIANCE_PERIOD, LAST_COMPLIANCE_PERIOD, RetirementDetails
from transfers.forms import recipient_from_text

from .models import InstructionDestination
from .services import MAX_DESTINATIONS, DestinationChoice

Kind = InstructionDestination.Kind
MONTH_INPUT = forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"})


class InstructionForm(forms.Form):
    """What a new instruction takes from (one generator, or every generator of a fuel), which
    vintages, how much of each issuance, and whether it is irrevocable."""

    applies_to = forms.ChoiceField(label="Applies to", error_messages={
        "required": "Choose a generator or a fuel type.",
        "invalid_choice": "Choose one of your generators or a fuel type from the list."})
    from_vintage = MonthField(label="From vintage", widget=MONTH_INPUT,
                              error_messages={"required": "Give the first vintage month it applies to."})
    until_vintage = MonthField(label="Until vintage (optional)", required=False, widget=MONTH_INPUT,
                               help_text="The last vintage month it applies to; blank: no end.")
    share = forms.ChoiceField(label="How much of each issuance", widget=forms.RadioSelect, initial="percentage",
                              choices=[("percentage", "A percentage"), ("maximum", "Up to a maximum quantity")],
                              error_messages={"required": "Choose a percentage or a maximum quantity."})
    percentage = forms.DecimalField(label="Percentage", required=False, min_value=Decimal("0.01"), max_value=100,
                                    decimal_places=2, max_digits=5,
                                    help_text="More than 0, at most 100; rounded down to whole certificates.",
                                    error_messages={"invalid": "Enter the percentage as a number, e.g. 60 or 12.5.",
                                                    "max_decimal_places": "Give the percentage with at most two "
                                                                          "decimals.",
                                                    "min_value": "The percentage must be more than 0.",
                                                    "max_value": "The percentage must be at most 100."},
                                    widget=forms.NumberInput(attrs={"step": "0.01", "min": "0.01", "max": "100"}))
    maximum = forms.IntegerField(label="Maximum quantity per issuance", required=False, min_value=1,
                                 error_messages={"invalid": "Enter the maximum as a whole number.",
                                                 "min_value": "The maximum must be at least 1."},
                                 widget=forms.NumberInput(attrs={"step": "1", "min": "1"}))
    irrevocable = forms.BooleanField(
        label="Irrevocable", required=False,
        help_text="Your organization will not be able to end it: only registry staff can lift this, when every "
                  "party agrees (for a power purchase agreement, say).")

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.generators = {str(g.pk): g for g in Generator.objects.filter(organization=organization)}
        self.fields["applies_to"].choices = [
            ("", "Choose a generator or a fuel type"),
            ("One generator", [(f"generator:{pk}", str(g)) for pk, g in self.generators.items()]),
            ("Every generator of a fuel type", [(f"fuel:{value}", f"Every {label.lower()} generator")
                                                for value, label in FuelType.choices]),
        ]

    def clean(self):
        data = super().clean()
        share = data.get("share")
        if share == "percentage" and data.get("percentage") is None and "percentage" not in self.errors:
            self.add_error("percentage", "Give the percentage of each issuance.")
        if share == "maximum" and data.get("maximum") is None and "maximum" not in self.errors:
            self.add_error("maximum", "Give the maximum quantity per issuance.")
        return data

    def source(self) -> dict:
        """generator= or fuel_type=, as instruction_create takes them."""
        kind, _, value = self.cleaned_data["applies_to"].partition(":")
        return {"generator": self.generators[value]} if kind == "generator" else {"fuel_type": value}

    def share_given(self) -> dict:
        share = self.cleaned_data["share"]
        return {share: self.cleaned_data[share]}


class DestinationForm(forms.Form):
    """One destination, in priority order (the form's prefix says which): the fields of its kind
    are read, the others ignored. The second and third may be left out."""

    kind = forms.ChoiceField(label="Destination", widget=forms.RadioSelect, required=False)
    account = forms.ModelChoiceField(queryset=Account.objects.none(), required=False, label="Active account",
                                     empty_label="Choose an account")
    organization = forms.CharField(required=False, label="Organization (registered name or MM id)",
                                   widget=forms.TextInput(attrs={"list": "organization-options",
                                                                 "autocomplete": "off"}))
    retirement_account = forms.ModelChoiceField(queryset=Account.objects.none(), required=False,
                                                label="Retirement account", empty_label="Choose an account")
    option = OfferedOptionField(required=False, label="Counts toward", empty_label="Choose an option")
    compliance_period = forms.IntegerField(
        required=False, label="Compliance period (year)", min_value=FIRST_COMPLIANCE_PERIOD,
        max_value=LAST_COMPLIANCE_PERIOD, help_text="Blank: each issuance's vintage year.",
        error_messages={key: f"Enter the year as four digits, from {FIRST_COMPLIANCE_PERIOD} to "
                             f"{LAST_COMPLIANCE_PERIOD}." for key in ("invalid", "min_value", "max_value")})
    beneficiary = forms.CharField(required=False, max_length=200, label="Beneficiary name")

    def __init__(self, *args, organization: Organization, priority: int, **kwargs):
        super().__init__(*args, prefix=f"d{priority}", **kwargs)
        self.organization, self.priority = organization, priority
        none = [] if priority == 1 else [("", "None")]
        self.fields["kind"].choices = none + list(Kind.choices)
        self.fields["kind"].label = f"Destination {priority}" + (" (first choice)" if priority == 1 else "")
        self.fields["account"].queryset = Account.objects.of(organization).open_active()
        self.fields["retirement_account"].queryset = Account.objects.of(organization).open_retirement()

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if not kind:
            if self.priority == 1:
                self.add_error("kind", "Choose where the certificates go.")
            return data
        if kind == Kind.ORGANIZATION and "organization" not in self.errors:
            try:
                data["recipient"] = recipient_from_text(self.organization, data.get("organization") or "")
            except forms.ValidationError as error:
                self.add_error("organization", error)
        elif kind == Kind.RETIREMENT and not data.get("option"):
            self.add_error("option", "Choose what the retirements count toward.")
        # Where the certificates may go (Destination.problems), on the field that names it.
        fields = {"destination.account": "retirement_account" if kind == Kind.RETIREMENT else "account",
                  "destination.organization": "organization"}
        for field, problem in self._choice(data).transfer_destination().problems(self.organization).items():
            if fields[field] not in self.errors:
                self.add_error(fields[field], problem)
        return data

    def choice(self) -> DestinationChoice | None:
        """The destination as instruction_create takes it (None: left out)."""
        return self._choice(self.cleaned_data) if self.cleaned_data.get("kind") else None

    @staticmethod
    def _choice(data: dict) -> DestinationChoice:
        kind = data.get("kind")
        if kind == Kind.OWN_ACCOUNT:
            return DestinationChoice(kind=kind, account=data.get("account"))
        if kind == Kind.ORGANIZATION:
            return DestinationChoice(kind=kind, recipient=data.get("recipient"))
        return DestinationChoice(kind=kind, account=data.get("retirement_account"), retirement=RetirementDetails(
            option=data.get("option"), compliance_period=data.get("compliance_period"),
            beneficiary=data.get("beneficiary") or ""))


def destination_forms(data, *, organization: Organization) -> list[DestinationForm]:
    return [DestinationForm(data, organization=organization, priority=priority)
            for priority in range(1, MAX_DESTINATIONS + 1)]
