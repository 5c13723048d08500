"""The public pages' filters, as forms: the choices people pick from, and the statistics' one rule
(StatisticsQuery.problems, GeneratorQuery.problems) for what they send."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from certificates.models import FuelType, StateOrProvince, Technology

from .selectors import GROUPINGS, GeneratorQuery, eligibilities_counted, programs_counted
from .values import StatisticsQuery

ANY = [("", "Any")]


class PlainSelect(forms.Select):
    """A list of plain options written in one go: the public pages' five lists hold some 130 options,
    which Django's template for each option took 15 ms of a 28 ms page to write (bench/public_stats.py)."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = "" if value is None else str(value)
        options = format_html_join("", "<option value=\"{}\"{}>{}</option>", (
            (option, " selected" if str(option) == chosen else "", label) for option, label in self.choices))
        return format_html("<select{}>{}</select>", flatatt(self.build_attrs(self.attrs, {**(attrs or {}),
                                                                                          "name": name})), options)


def choice(label: str | None = None, choices=()) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=choices, required=False, widget=PlainSelect)


class StatisticsForm(forms.Form):
    fuel = choice(choices=ANY + FuelType.choices)
    technology = choice(choices=ANY + Technology.choices)
    state = choice("State or province", ANY + StateOrProvince.choices)
    eligibility = choice()
    program = choice()
    month_from = forms.CharField(label="From (MM/YYYY)", required=False, max_length=7,
                                 widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "01/2024"}))
    month_to = forms.CharField(label="To (MM/YYYY)", required=False, max_length=7,
                               widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "12/2024"}))
    by = choice("Count by", list(GROUPINGS.items()))

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
    fuel = choice(choices=ANY + FuelType.choices)
    technology = choice(choices=ANY + Technology.choices)
    state = choice("State or province", ANY + StateOrProvince.choices)

    def query(self) -> GeneratorQuery:
        return GeneratorQuery.from_params(self.cleaned_data if self.is_valid() else {})
