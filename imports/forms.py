import re

from django import forms

from certificates.models import FuelType, StateOrProvince, Technology
from certificates.periods import MONTH_HELP, ProductionPeriod
from registry.models import Organization, TrackingSystem
from utilities.csv_upload import CsvUploadForm

from .models import ImportSource
from .values import ImportDetails


class ImportForm(forms.Form):
    """Registry staff's form of one import by conversion (the admin's "Record an import")."""

    tracking_system = forms.ModelChoiceField(TrackingSystem.objects.filter(is_active=True),
                                             label="Source tracking system")
    original_serial = forms.CharField(label="Original serial number", max_length=220,
                                      help_text="As the source wrote it, e.g. MIRECS-123-MI-01-2009-123-1 to 100.")
    generator_id = forms.CharField(label="Generator ID there", max_length=64)
    generator_name = forms.CharField(label="Generator name", max_length=200)
    fuel = forms.ChoiceField(choices=FuelType.choices)
    technology = forms.ChoiceField(choices=[("", "—"), *Technology.choices], required=False)
    state = forms.ChoiceField(label="State or province", choices=StateOrProvince.choices)
    capacity_mw = forms.DecimalField(label="Capacity (MW)", max_digits=8, decimal_places=2, min_value=0)
    vintage = forms.CharField(label="Vintage (month)", help_text="MM/YYYY, e.g. 01/2024.", max_length=16)
    eligibilities = forms.CharField(required=False, max_length=400,
                                    help_text="As the source gave the certificates, separated by semicolons.")
    quantity = forms.IntegerField(min_value=1, help_text="The original serial range's length.")
    recipient = forms.ModelChoiceField(Organization.objects.none(), label="Recipient organization")
    notes = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The stand-ins of the sources hold imports; they never receive them.
        self.fields["recipient"].queryset = Organization.objects.exclude(
            pk__in=ImportSource.objects.values("organization_id"))

    def clean_vintage(self):
        period = ProductionPeriod.parse_month(self.cleaned_data["vintage"])
        if period is None:
            raise forms.ValidationError(MONTH_HELP)
        return period

    def details(self) -> ImportDetails:
        data = self.cleaned_data
        return ImportDetails(
            tracking_system=data["tracking_system"], original_serial=data["original_serial"],
            generator_id=data["generator_id"], generator_name=data["generator_name"], fuel=data["fuel"],
            technology=data["technology"], state=data["state"], capacity_mw=data["capacity_mw"],
            period=data["vintage"], quantity=data["quantity"], recipient=data["recipient"],
            eligibilities=[name for name in re.split(r"[;|]", data["eligibilities"]) if name.strip()],
            notes=data["notes"])


class ImportFileForm(CsvUploadForm):
    """The import file (imports/files.py)."""
