from django import forms

from .models import Account

NAME_ERRORS = {"required": "Give the account a name.",
               "max_length": "An account's name is at most 200 characters."}


class AccountOpenForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200, error_messages=NAME_ERRORS)
    type = forms.ChoiceField(label="Type", choices=Account.Type.choices, initial=Account.Type.ACTIVE,
                             error_messages={"invalid_choice": "Choose an account type: active, retirement or reserve.",
                                             "required": "Choose an account type: active, retirement or reserve."})


class AccountRenameForm(forms.Form):
    name = forms.CharField(label="New name", max_length=200, error_messages=NAME_ERRORS)
