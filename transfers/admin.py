from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from registry.services import ServiceError
from utilities.admin_readonly import ReadOnlyAdmin, admin_link, admin_links
from utilities.display import number_text

from .models import PendingExport, Transfer, TransferItem
from .services import export_confirm, export_reject
from .summaries import summary_item_rows


class TransferItemInline(admin.TabularInline):
    model = TransferItem
    extra = 0
    fields = ["batch_link", "quantity", "source_batch_link", "source_account"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("batch__certificate", "source_batch__certificate",
                                                            "source_account")

    @admin.display(description="Batch moved")
    def batch_link(self, item):
        return admin_link(item.batch)

    @admin.display(description="Quantity")
    def quantity(self, item):
        return number_text(item.batch.quantity)

    @admin.display(description="Taken from")
    def source_batch_link(self, item):
        return admin_link(item.source_batch)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "status", "organization", "destination", "submitted_at", "mass_upload"]
    list_filter = ["kind", "status", ("submitted_at", admin.DateFieldListFilter)]
    search_fields = ["=pk", "organization__name", "organization__public_id", "recipient_organization__name",
                     "recipient_organization__public_id", "notes", "recipient_name"]
    list_select_related = ["organization", "recipient_organization", "tracking_system", "destination_account"]
    exclude = ["draft"]
    readonly_fields = ["ledger_events"]
    inlines = [TransferItemInline]

    @admin.display(description="Destination")
    def destination(self, transfer):
        return transfer.destination_label

    @admin.display(description="Ledger events")
    def ledger_events(self, transfer):
        return admin_links(transfer.events.order_by("pk"))


class ExportDecisionForm(forms.Form):
    decision = forms.ChoiceField(widget=forms.RadioSelect, choices=[
        ("confirm", "Confirm: accepted by the receiving system (the certificates become exported)"),
        ("reject", "Record rejection by the receiving system (the certificates return to the sender)"),
    ])
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=500,
                           help_text="For the record, e.g. the receiving system's confirmation number.")


@admin.register(PendingExport)
class PendingExportAdmin(ReadOnlyAdmin):
    list_display = ["pk", "organization", "tracking_system", "recipient_name", "recipient_account_ref", "quantity",
                    "submitted_at", "decide_link"]
    list_filter = ["tracking_system"]
    search_fields = ["=pk", "organization__name", "organization__public_id", "recipient_name"]
    list_select_related = ["organization", "tracking_system"]
    ordering = ["submitted_at"]

    def get_queryset(self, request):
        return (super().get_queryset(request).filter(kind=Transfer.Kind.EXPORT, status=Transfer.Status.PENDING)
                .annotate(total_quantity=Sum("items__batch__quantity")))

    @admin.display(description="Certificates", ordering="total_quantity")
    def quantity(self, transfer):
        return number_text(transfer.total_quantity)

    @admin.display(description="")
    def decide_link(self, transfer):
        return format_html('<a class="button" href="{}">Confirm or record rejection</a>',
                           reverse("admin:transfers_pendingexport_decide", args=[transfer.pk]))

    def get_urls(self):
        return [path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view),
                     name="transfers_pendingexport_decide"), *super().get_urls()]

    def decide_view(self, request, pk):
        """Record the receiving tracking system's answer, through the export services."""
        transfer = get_object_or_404(self.get_queryset(request).select_related("tracking_system"), pk=pk)
        form = ExportDecisionForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            service = export_confirm if form.cleaned_data["decision"] == "confirm" else export_reject
            try:
                service(transfer=transfer, user=request.user, note=form.cleaned_data["note"])
            except ServiceError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, f"Export {transfer.pk}: "
                                           f"{'confirmed' if service is export_confirm else 'rejection recorded'}.",
                                  messages.SUCCESS)
            return redirect("admin:transfers_pendingexport_changelist")
        return TemplateResponse(request, "admin/transfers/decide_export.html", {
            **self.admin_site.each_context(request), "title": f"Export {transfer.pk} to {transfer.tracking_system}",
            "transfer": transfer, "rows": summary_item_rows(transfer), "form": form, "opts": self.model._meta,
        })


@admin.register(TransferItem)
class TransferItemAdmin(ReadOnlyAdmin):
    list_display = ["transfer", "batch", "source_batch", "source_account"]
    search_fields = ["=transfer__pk", "batch__certificate__serial_base"]
    list_select_related = ["transfer", "batch__certificate", "source_batch__certificate", "source_account"]
