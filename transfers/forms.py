from django import forms

from accounts.models import Account
from registry.models import Organization


class AcceptForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Into account",
                                     empty_label=None)

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.of(organization).open_active()


class DecisionForm(forms.Form):
    note = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
                           label="Note (optional)")
