import datetime

from django import forms
from django.utils import timezone

from .models import ApiKey


class ApiKeyForm(forms.Form):
    """A new key: its name, a scope the creator's role allows (ApiKey.scopes_for_role), an
    optional last day."""

    name = forms.CharField(label="Name", max_length=50,
                           help_text="What uses it, e.g. “Trading desk ERP”. Up to 50 characters.",
                           error_messages={"required": "Enter a name for the key."})
    scope = forms.ChoiceField(label="Scope", error_messages={"invalid_choice": "Choose one of the scopes listed."})
    expires_on = forms.DateField(label="Last day (optional)", required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="The key stops working at the end of this day. Leave empty for no expiry.",
                                 error_messages={"invalid": "Enter a date as YYYY-MM-DD, e.g. 2027-03-31."})

    def __init__(self, *args, role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = ApiKey.scopes_for_role(role)
        self.fields["scope"].initial = ApiKey.Scope.READ

    def clean_expires_on(self):
        day = self.cleaned_data["expires_on"]
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError("Choose today or a later day, or leave it empty.")
        return day

    @property
    def expiry_date(self) -> datetime.datetime | None:
        """The moment the key stops working: the first moment after its last day, in the reader's zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))
