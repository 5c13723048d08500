from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin
from django_otp import devices_for_user, match_token

from utilities.time_zones import known_time_zones, time_zone_choices, validate_time_zone

from .models import EmailEvent, Membership, User


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


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254,
                             error_messages={"required": "Enter the email address to invite.",
                                             "invalid": "Enter a valid email address, like name@example.com."})
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices, initial=Membership.Role.VIEWER,
                             error_messages={"invalid_choice": "Choose a role: manager, trader or viewer."})


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Membership.Role.choices,
                             error_messages={"invalid_choice": "Choose a role: manager, trader or viewer.",
                                             "required": "Choose a role: manager, trader or viewer."})


class NewMemberForm(SetPasswordMixin, forms.Form):
    """A new person joining by invitation: their name and a password that passes the registry's
    password validators (AUTH_PASSWORD_VALIDATORS, the same as a password change)."""

    full_name = forms.CharField(label="Your name", max_length=200,
                                error_messages={"required": "Enter your name."})
    # Named as Django's SetPasswordForm names them, so the page shares its fields with a reset's.
    new_password1, new_password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        user = User(email=self.email, full_name=self.cleaned_data.get("full_name", ""))
        self.validate_password_for_user(user, "new_password2")
        return super().clean()


class NameForm(forms.Form):
    full_name = forms.CharField(label="Your name", max_length=200,
                                error_messages={"required": "Enter your name."})


class RequireTwoFactorForm(forms.Form):
    required = forms.BooleanField(required=False)


class EmailPreferencesForm(forms.Form):
    """The emails the user gets: each ticked one is sent, each left unticked is not."""

    emails = forms.MultipleChoiceField(
        label="Emails", choices=EmailEvent.choices, required=False, widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "“%(value)s” is not one of the emails listed; tick the ones you want."})
