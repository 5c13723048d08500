from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django_otp import devices_for_user, match_token

from utilities.time_zones import known_time_zones, time_zone_choices, validate_time_zone


class TwoFactorMixin:
    """After the password: a TOTP code, for users who turned two-factor sign-in on."""

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and any(devices_for_user(user, confirmed=True)):
            token = (self.cleaned_data.get("otp_token") or "").replace(" ", "")
            if not token:
                raise forms.ValidationError("Enter the 6-digit code from your authenticator app.",
                                            code="token_required")
            self.otp_device = match_token(user, token)
            if self.otp_device is None:
                raise forms.ValidationError("That code is not right (or has expired); try the current one.",
                                            code="invalid_token")
        return cleaned


class SignInForm(TwoFactorMixin, AuthenticationForm):
    otp_token = forms.CharField(required=False, label="Authentication code",
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class AdminSignInForm(TwoFactorMixin, AdminAuthenticationForm):
    otp_token = forms.CharField(required=False, label="Authentication code (if two-factor is on)")


class TokenForm(forms.Form):
    token = forms.CharField(label="Code from your authenticator app", max_length=8,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


class TimeZoneForm(forms.Form):
    """The settings page's time zone: any zone of the time zone database, chosen from a list grouped
    by region (the list holds the user's current zone even where it is an old alias)."""

    time_zone = forms.CharField(label="Time zone", max_length=64, validators=[validate_time_zone],
                                error_messages={"required": "Choose a time zone."})

    def __init__(self, *args, current: str, **kwargs):
        super().__init__(*args, initial={"time_zone": current}, **kwargs)
        self.fields["time_zone"].widget = forms.Select(choices=time_zone_choices(including=current))

    def chosen(self) -> str:
        """The zone the list shows selected: the one posted where it is a zone, else the user's own."""
        value = self["time_zone"].value()
        return value if value in known_time_zones() else self.initial["time_zone"]
