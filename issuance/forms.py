from django import forms

from certificates.filters import MonthField


class ReportMonthForm(forms.Form):
    month = MonthField(label="Month", required=False, help_text="MM/YYYY, e.g. 01/2025")


class RollbackForm(forms.Form):
    """Registry staff's reason for rolling back an issuance (the owner's managers are told it)."""

    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
                             help_text="Why the month is rolled back, e.g. the corrected meter reading and its "
                                       "source. The owner's managers are emailed it; the ledger keeps it.")
