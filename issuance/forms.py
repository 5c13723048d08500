from django import forms

from certificates.filters import MonthField

from .generation import parse_mwh
from .models import EVIDENCE_MAX_BYTES


class ReportMonthForm(forms.Form):
    month = MonthField(label="Month", required=False, help_text="MM/YYYY, e.g. 01/2025")


class CorrectionRequestForm(forms.Form):
    """A manager's request to correct an issued month: the corrected total (as an upload gives it,
    parsed by the upload's one rule), the evidence note and optionally a file."""

    mwh = forms.CharField(label="Corrected total (MWh)", max_length=32,
                          help_text="The month's corrected total generation, not the difference, e.g. 1250.125")
    note = forms.CharField(label="Evidence", widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
                           help_text="What was wrong and how the corrected total was found (the meter, the reading).")
    evidence = forms.FileField(label="Evidence file (optional)", required=False,
                               help_text="A meter-data statement or settlement report, up to 10 MB.")

    def clean_mwh(self):
        mwh = parse_mwh(self.cleaned_data["mwh"])
        if isinstance(mwh, str):
            raise forms.ValidationError(mwh)
        return mwh

    def clean_evidence(self):
        evidence = self.cleaned_data.get("evidence")
        if evidence and evidence.size > EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(f"The file is {evidence.size / 2**20:.1f} MB; the limit is "
                                        f"{EVIDENCE_MAX_BYTES // 2**20} MB.")
        return evidence


class RollbackForm(forms.Form):
    """Registry staff's reason for rolling back an issuance (the owner's managers are told it)."""

    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                             help_text="Why the month is rolled back, e.g. the corrected meter reading and its "
                                       "source. The owner's managers are emailed it; the ledger keeps it.")
