"""The wizard's retirement details (step 2 of a retirement) and the annual report's year."""

from django import forms
from django.utils import timezone

from accounts.models import Account
from registry.models import Organization
from transfers.models import NOTES_MAX_LENGTH

from .selectors import retirement_option_not_offered, retirement_options_offered
from .services import RetirementDetails


class OfferedOptionField(forms.ModelChoiceField):
    """A retirement option a user may choose (retirement_options_offered); one of the registry's own
    posted anyway is refused with its reason rather than as an unknown choice."""

    def __init__(self, **kwargs):
        super().__init__(queryset=retirement_options_offered(), **kwargs)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            if error.code != "invalid_choice":
                raise
            raise forms.ValidationError(retirement_option_not_offered(
                pk=value, otherwise=self.error_messages["invalid_choice"]), code="invalid_choice") from None


class RetirementForm(forms.Form):
    """Step 2 of a retirement: the retirement account, what it counts toward and the details that
    option needs (RetirementDetails.problems says which), optional notes."""

    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Retirement account",
                                     empty_label="Choose an account",
                                     error_messages={"required": "Choose the retirement account.",
                                                     "invalid_choice": "Choose one of your open retirement accounts."})
    option = OfferedOptionField(label="Counts toward", empty_label="Choose an option",
                                    error_messages={"required": "Choose what the retirement counts toward.",
                                                    "invalid_choice": "Choose one of the options offered."})
    compliance_period = forms.IntegerField(required=False, label="Compliance period (year)",
                                           error_messages={"invalid": "Enter the year as four digits."},
                                           widget=forms.NumberInput(attrs={"min": 2000, "max": 2100, "step": 1}))
    period_start = forms.DateField(required=False, label="Reporting period start",
                                   widget=forms.DateInput(attrs={"type": "date"}),
                                   error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    period_end = forms.DateField(required=False, label="Reporting period end",
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 error_messages={"invalid": "Enter a date as YYYY-MM-DD."})
    beneficiary = forms.CharField(required=False, max_length=200, label="Beneficiary name")
    notes = forms.CharField(required=False, max_length=NOTES_MAX_LENGTH, label="Notes (optional)",
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="The note appears on the retirement.")

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["account"].queryset = Account.objects.of(organization).open_retirement()
        self.batches = []  # the draft's batches, set by the wizard: those its program must accept

    def clean(self):
        data = super().clean()
        if "option" in data:
            for field, problem in self.details().problems().items():
                if field not in self.errors:
                    self.add_error(field, problem)
            # The option's program, asked now rather than at the last step (retirement_write asks again).
            refusal = self.details().program_refusal([batch.pk for batch in self.batches],
                                                     organization=self.organization, now=timezone.now())
            for problem in [refusal.program] if refusal.program else refusal.batches.values():
                self.add_error("option", problem)
        return data

    def details(self) -> RetirementDetails:
        data = self.cleaned_data
        return RetirementDetails(option=data.get("option"), compliance_period=data.get("compliance_period"),
                                 period_start=data.get("period_start"), period_end=data.get("period_end"),
                                 beneficiary=data.get("beneficiary") or "")

    def draft_fields(self) -> dict:
        data = self.cleaned_data
        return {"account": data["account"].pk, "option": data["option"].pk,
                "compliance_period": data.get("compliance_period"),
                "period_start": data["period_start"].isoformat() if data.get("period_start") else None,
                "period_end": data["period_end"].isoformat() if data.get("period_end") else None,
                "beneficiary": (data.get("beneficiary") or "").strip(), "notes": data.get("notes", "")}


class AnnualReportForm(forms.Form):
    """The year of the annual retirement report: by default last year (in the reader's time zone)."""

    year = forms.IntegerField(label="Year", min_value=1900, max_value=9999, error_messages={
        key: "Enter the year as four digits, e.g. 2024." for key in ("invalid", "min_value", "max_value")})

    def __init__(self, data, *, default: int):
        super().__init__(data if data.get("year") else {"year": default})
        self.default = default
