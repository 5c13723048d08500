from django import forms
from django.contrib import admin, messages
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from registry.services import ServiceError
from utilities.admin_readonly import ReadOnlyAdmin, number_column

from .models import InstructionDestination, InstructionRun, StandingInstruction
from .services import instruction_lift_irrevocable


class LiftForm(forms.Form):
    note = forms.CharField(label="Why (recorded in the ledger)", widget=forms.Textarea(attrs={"rows": 3}),
                           error_messages={"required": "Say why the flag is lifted (e.g. every party agreed)."})


class DestinationInline(admin.TabularInline):
    model = InstructionDestination
    fields = ["priority", "kind", "account", "recipient", "retirement_option", "compliance_period", "beneficiary"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(StandingInstruction)
class StandingInstructionAdmin(ReadOnlyAdmin):
    """Participants set and end their instructions on their own pages; staff read them here and lift
    the irrevocable flag (a service call, in the ledger with its reason)."""

    list_display = ["__str__", "organization", "source_label", "share_label", "vintages_label", "irrevocable",
                    "status", "created_at", "lift_link"]
    list_filter = ["status", "irrevocable", "fuel_type"]
    search_fields = ["organization__name", "organization__public_id", "generator__code"]
    list_select_related = ["organization", "generator"]
    inlines = [DestinationInline]

    @admin.display(description="Irrevocable flag")
    def lift_link(self, instruction):
        if not instruction.irrevocable:
            return "—"
        return format_html('<a href="{}">Lift it</a>', reverse("admin:instructions_lift", args=[instruction.pk]))

    def get_urls(self):
        return [path("<int:pk>/lift/", self.admin_site.admin_view(self.lift_view), name="instructions_lift"),
                *super().get_urls()]

    def lift_view(self, request, pk):
        """Make an irrevocable instruction revocable, through instruction_lift_irrevocable."""
        instruction = get_object_or_404(StandingInstruction.objects.select_related("organization"), pk=pk)
        form = LiftForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                instruction_lift_irrevocable(instruction=instruction, user=request.user,
                                             note=form.cleaned_data["note"])
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"{instruction} is no longer irrevocable: "
                                           f"{instruction.organization.name} may end it.", messages.SUCCESS)
                return redirect("admin:instructions_standinginstruction_change", instruction.pk)
        return TemplateResponse(request, "admin/instructions/lift.html", {
            **self.admin_site.each_context(request), "title": f"Lift the irrevocable flag of {instruction}",
            "instruction": instruction, "form": form, "opts": self.model._meta,
        })


@admin.register(InstructionRun)
class InstructionRunAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "status", number_column("quantity_asked", "Asked"),
                    number_column("quantity_moved", "Moved"), "transfer", "created_at"]
    list_filter = ["status"]
    list_select_related = ["transfer"]
    search_fields = ["certificate__serial_base"]
