"""Registry staff keep the programs here: create one with its rules, change it (its rules by a new
version, in force from now or a later moment), retire it (it closes), each through programs.services
and so a ledger event. A program's page shows its rule history and the rules in force on a date."""

from django import forms
from django.contrib import admin, messages
from django.contrib.postgres.forms import SimpleArrayField
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from certificates.filters import MonthField
from certificates.models import FuelType, StateOrProvince, Technology
from registry.services import ServiceError
from utilities.admin_readonly import ReadOnlyAdmin
from utilities.display import count_text, date_text

from .admin_participants import ParticipantsAdminMixin
from .models import Program, ProgramRules
from .selectors import program_history
from .services import (
    PROGRAM_FIELDS,
    RULE_FIELDS,
    ProgramRefused,
    program_change,
    program_create,
    program_retire,
    rules_check,
)


def _first_day(period):
    return period.first_day if period else None


class ProgramForm(forms.ModelForm):
    """A program's own fields and its rules: a change of the rules becomes a new version."""

    vintage_years_before = forms.IntegerField(
        required=False, min_value=0, max_value=100, label="Vintage no older than (years before the compliance year)",
        help_text="E.g. 4: a 2025 program accepts 2021 or later.")
    vintage_from = MonthField(required=False, label="Earliest vintage", help_text="MM/YYYY, e.g. 01/2021")
    vintage_to = MonthField(required=False, label="Latest vintage", help_text="MM/YYYY, e.g. 12/2025")
    fuels = forms.MultipleChoiceField(choices=FuelType.choices, required=False, widget=forms.CheckboxSelectMultiple,
                                      help_text="None ticked: any fuel.")
    technologies = forms.MultipleChoiceField(choices=Technology.choices, required=False,
                                             widget=forms.CheckboxSelectMultiple, help_text="None ticked: any.")
    states = forms.MultipleChoiceField(choices=StateOrProvince.choices, required=False,
                                       label="States or provinces", help_text="None chosen: anywhere.",
                                       widget=forms.SelectMultiple(attrs={"size": 8}))
    eligibilities = SimpleArrayField(forms.CharField(max_length=32), required=False,
                                     label="Eligibilities (any of)",
                                     help_text="Comma-separated, as generators carry them, e.g. MN RES, Green-e.")
    generators = SimpleArrayField(forms.CharField(max_length=16), required=False, label="Generators (by ID)",
                                  help_text="Comma-separated generator IDs; empty: any generator.")
    effective_from = forms.DateTimeField(
        required=False, label="Rules take effect", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Empty: now. A later moment keeps today's rules until then; never in the past.")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), label="Why (kept in the ledger)")

    class Meta:
        model = Program
        fields = list(PROGRAM_FIELDS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        newest = self.instance.rule_versions.order_by("-effective_from").first() if self.instance.pk else None
        if newest is not None:
            for field in RULE_FIELDS:
                value = getattr(newest, field)
                if field in ("vintage_from", "vintage_to") and value:
                    value = value.strftime("%m/%Y")
                self.initial[field] = value

    def rules(self) -> dict:
        data = self.cleaned_data
        return {field: _first_day(data.get(field)) if field in ("vintage_from", "vintage_to") else data.get(field)
                for field in RULE_FIELDS}

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:  # the service's own check of the rules, for its words next to the form
                rules_check(self.rules(), compliance_year=data.get("compliance_year"))
            except ProgramRefused as refused:
                raise forms.ValidationError(str(refused)) from refused
            # A change of the administrators alone (the inline) changes nothing here: ProgramAdmin.save_model
            # then leaves the program as it is.
        return data


@admin.register(Program)
class ProgramAdmin(ParticipantsAdminMixin, admin.ModelAdmin):
    """Programs as data. None is ever deleted (retirements count toward it): retire it instead. Its
    administrators and participants: programs.admin_participants."""

    form = ProgramForm
    inlines = ParticipantsAdminMixin.participants_inlines
    list_display = ["name", "code", "kind", "jurisdiction", "compliance_year", "close_date", "history_link",
                    "invite_link"]
    list_filter = ["kind", "compliance_year"]
    search_fields = ["name", "code", "jurisdiction"]
    actions = ["retire_today"]
    fieldsets = [
        (None, {"fields": list(PROGRAM_FIELDS)}),
        ("Rules on the certificates it accepts", {"fields": [
            "vintage_years_before", "vintage_from", "vintage_to", "fuels", "technologies", "states", "eligibilities",
            "generators", "effective_from", "note"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        fields = {field: form.cleaned_data.get(field) for field in PROGRAM_FIELDS}
        note = form.cleaned_data.get("note", "")
        if change and not form.has_changed():
            return  # only the inlines changed (their own services record it)
        try:
            if change:
                program_change(user=request.user, program=obj, fields=fields, rules=form.rules(), note=note,
                               effective_from=form.cleaned_data.get("effective_from"))
            else:
                created = program_create(user=request.user, fields=fields, rules=form.rules(), note=note)
                obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db
        except ServiceError as error:  # changed meanwhile (the form asked the same rules first)
            self.message_user(request, str(error), messages.ERROR)

    @admin.display(description="Rules")
    def history_link(self, program):
        return format_html('<a href="{}">History and rules on a date</a>',
                           reverse("admin:programs_program_history", args=[program.pk]))

    @admin.action(description="Retire the selected programs (they close today)")
    def retire_today(self, request, queryset):
        today, retired = timezone.localdate(), 0
        for program in queryset:
            try:
                program_retire(user=request.user, program=program, close_date=today, note="Retired by staff")
            except ServiceError as error:
                self.message_user(request, f"{program.name}: {error}", messages.ERROR)
            else:
                retired += 1
        if retired:
            self.message_user(request, f"{count_text(retired, 'program')} retired: they close on {date_text(today)}.",
                              messages.SUCCESS)

    def get_urls(self):
        return [path("<int:pk>/history/", self.admin_site.admin_view(self.history_view),
                     name="programs_program_history"), *self.participant_urls(), *super().get_urls()]

    def history_view(self, request, pk):
        """Every version of the program's rules, its ledger events, and the rules in force on a date."""
        program = get_object_or_404(Program, pk=pk)
        versions, events = program_history(program)
        day_form = RulesOnForm(request.GET or None)
        day = day_form.cleaned_data["on"] if day_form.is_valid() else timezone.localdate()
        in_force = program.rules_on(day)
        return TemplateResponse(request, "admin/programs/history.html", {
            **self.admin_site.each_context(request), "title": f"{program.name}: rules and history",
            "program": program, "versions": versions, "events": events, "day": day, "day_form": day_form,
            "in_force": in_force, "opts": self.model._meta,
        })


class RulesOnForm(forms.Form):
    on = forms.DateField(label="Rules in force on", widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": "Enter a date as YYYY-MM-DD."})


@admin.register(ProgramRules)
class ProgramRulesAdmin(ReadOnlyAdmin):
    """Every version of every program's rules, read only: a change is a new version (the program's page)."""

    list_display = ["program", "effective_from", "created_by", "note"]
    list_filter = ["program"]
    list_select_related = ["program", "created_by"]
