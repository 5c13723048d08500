"""The public pages' filters, as forms: the choices people pick from, and the statistics' one rule
(StatisticsQuery.problems, GeneratorQuery.problems) for what they send."""

from django import forms

from certificates.models import FuelType, StateOrProvince, Technology

from .selectors import GROUPINGS, GeneratorQuery, eligibilities_counted, programs_counted
from .values import StatisticsQuery

ANY = [("", "Any")]


class StatisticsForm(forms.Form):
    fuel = forms.ChoiceField(choices=ANY + FuelType.choices, required=False)
    technology = forms.ChoiceField(choices=ANY + Technology.choices, required=False)
    state = forms.ChoiceField(label="State or province", choices=ANY + StateOrProvince.choices, required=False)
    eligibility = forms.ChoiceField(required=False)
    program = forms.ChoiceField(required=False)
    month_from = forms.CharField(label="From (MM/YYYY)", required=False, max_length=7,
                                 widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "01/2024"}))
    month_to = forms.CharField(label="To (MM/YYYY)", required=False, max_length=7,
                               widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "12/2024"}))
    by = forms.ChoiceField(label="Count by", choices=list(GROUPINGS.items()), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["eligibility"].choices = ANY + [(name, name) for name in eligibilities_counted()]
        self.fields["program"].choices = ANY + programs_counted()

    def clean(self) -> dict:
        data = super().clean()
        for field, message in self.query(data).problems().items():
            if field not in self.errors:
                self.add_error(field, message)
        return data

    @staticmethod
    def query(data: dict, activity: str = "") -> StatisticsQuery:
        return StatisticsQuery.from_params({**data, "activity": activity})


class GeneratorForm(forms.Form):
    fuel = forms.ChoiceField(choices=ANY + FuelType.choices, required=False)
    technology = forms.ChoiceField(choices=ANY + Technology.choices, required=False)
    state = forms.ChoiceField(label="State or province", choices=ANY + StateOrProvince.choices, required=False)

    def query(self) -> GeneratorQuery:
        return GeneratorQuery.from_params(self.cleaned_data if self.is_valid() else {})
