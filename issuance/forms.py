from django import forms

from certificates.filters import MonthField


class ReportMonthForm(forms.Form):
    month = MonthField(label="Month", required=False, help_text="MM/YYYY, e.g. 01/2025")
