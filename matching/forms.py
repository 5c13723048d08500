from django import forms

from accounts.models import Account
from certificates.periods import ProductionPeriod
from registry.models import Organization
from utilities.csv_upload import CsvUploadForm

from .models import ConsumptionSite
from .values import days_span


class SiteForm(forms.Form):
    code = forms.CharField(label="Site ID", max_length=ConsumptionSite._meta.get_field("code").max_length,
                           help_text="As your consumption files will name it, e.g. the meter's number.")
    name = forms.CharField(max_length=200)
    grid_area = forms.CharField(label="Grid area", required=False, max_length=32,
                                help_text="Optional, e.g. MISO: then only certificates of generators of that area "
                                          "(or of none) are matched to it.")


class ConsumptionUploadForm(CsvUploadForm):
    pass


class MatchForm(forms.Form):
    """Which retirement account the matched certificates go into, and optionally which days to match."""

    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Retire into", empty_label=None)
    first_day = forms.DateField(label="From (day)", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last_day = forms.DateField(label="To (day)", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.of(organization).open_retirement()

    def clean(self):
        data = super().clean()
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and first > last:
            self.add_error("last_day", "The last day must be on or after the first.")
        return data

    def span(self) -> ProductionPeriod | None:
        """The days chosen (None: all the site's consumption)."""
        return days_span(self.cleaned_data.get("first_day"), self.cleaned_data.get("last_day"))
