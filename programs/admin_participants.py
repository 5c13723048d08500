"""The program admin's parts for participants and administrators (issue #29, item 3): the inline of
administrators (each change through programs.participation, a ledger event), the read-only inline
of invited organizations, and the page where staff invite an organization. programs/admin.py's
ProgramAdmin takes them in (ParticipantsAdminMixin)."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from registry.models import Organization
from registry.services import ServiceError

from .models import Program, ProgramAdministrator, ProgramParticipation
from .participation import (
    invitation_sent_text,
    participation_invite,
    program_administrator_add,
    program_administrator_remove,
)


class ProgramAdministratorInline(admin.TabularInline):
    """The regulator organizations that administer the program: added and removed here, each a
    ledger event (changing a row's organization removes one and adds the other)."""

    model = ProgramAdministrator
    extra = 0
    fields = ["organization", "added_at"]
    readonly_fields = ["added_at"]
    autocomplete_fields = ["organization"]
    verbose_name = "administrator (a regulator organization)"


class ProgramParticipationInline(admin.TabularInline):
    """Who was invited and what they answered: invitations are made on the program's Invite page and
    answered by the organizations' managers, never edited here."""

    model = ProgramParticipation
    extra = 0
    fields = ["organization", "status", "invited_by", "invited_at", "decided_by", "decided_at"]
    readonly_fields = fields
    can_delete = False
    verbose_name = "participant"

    def has_add_permission(self, request, obj=None):
        return False


class ParticipantInviteAdminForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.filter(kind=Organization.Kind.PARTICIPANT, status=Organization.Status.ACTIVE),
        label="Organization to invite")


class ParticipantsAdminMixin:
    """For ProgramAdmin: administrators saved through their services, and the Invite page."""

    participants_inlines = [ProgramAdministratorInline, ProgramParticipationInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not ProgramAdministrator:
            return super().save_formset(request, form, formset, change)
        program = form.instance
        formset.save(commit=False)
        for administrator in formset.deleted_objects:
            program_administrator_remove(user=request.user, administrator=administrator)
        for administrator, _ in formset.changed_objects:
            was = ProgramAdministrator.objects.select_related("organization", "program").get(pk=administrator.pk)
            program_administrator_remove(user=request.user, administrator=was)
            program_administrator_add(user=request.user, program=program, organization=administrator.organization)
        for administrator in formset.new_objects:
            program_administrator_add(user=request.user, program=program, organization=administrator.organization)
        return None

    @admin.display(description="Participants")
    def invite_link(self, program):
        return format_html('<a href="{}">Invite an organization</a>',
                           reverse("admin:programs_program_invite", args=[program.pk]))

    def participant_urls(self):
        return [path("<int:pk>/invite/", self.admin_site.admin_view(self.invite_view), name="programs_program_invite")]

    def invite_view(self, request, pk):
        """Invite an organization to the program, through participation_invite (its managers are emailed)."""
        program = get_object_or_404(Program, pk=pk)
        form = ParticipantInviteAdminForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            organization = form.cleaned_data["organization"]
            try:
                participation = participation_invite(user=request.user, program=program, organization=organization)
            except ServiceError as error:
                form.add_error("organization", str(error))
            else:
                self.message_user(request, invitation_sent_text(participation), messages.SUCCESS)
                return redirect("admin:programs_program_change", program.pk)
        return TemplateResponse(request, "admin/programs/invite.html", {
            **self.admin_site.each_context(request), "title": f"Invite an organization to {program}",
            "program": program, "form": form, "opts": self.model._meta})
