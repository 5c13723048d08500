import base64
import binascii

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import F
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from utilities.admin_readonly import ReadOnlyAdmin, admin_link, number_column
from utilities.display import count_text

from .files import FIELD_COLUMNS, import_file_read
from .forms import ImportFileForm, ImportForm
from .messages import public_key_text
from .models import Import, ImportSource, PeerRegistry, ReceivedMessage, Reconciliation
from .services import ImportRefused, import_record, imports_record_file


@admin.register(Import)
class ImportAdmin(ReadOnlyAdmin):
    """Imports by conversion: recorded here by registry staff, one by the form or many by an import file
    (each all or nothing, through imports.services); never changed here: the recipient decides."""

    list_display = ["id", "original_serial", "tracking_system", number_column("quantity_sort", "Quantity"),
                    "recipient", "status", "certificate_link", "recorded_by", "recorded_at"]
    list_filter = ["tracking_system", "transfer__status"]
    search_fields = ["original_serial_base", "recipient__name", "recipient__public_id", "certificate__serial_base"]
    list_select_related = ["tracking_system", "recipient", "certificate", "transfer", "recorded_by"]
    change_list_template = "admin/imports/import/change_list.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(quantity_sort=F("original_end") - F("original_start") + 1)

    @admin.display(description="Status", ordering="transfer__status")
    def status(self, record):
        if record.transfer.status == "rejected":
            return "Rejected: voided, to return to the source"
        return {"pending": "Waiting for the recipient", "complete": "Accepted"}.get(record.transfer.status,
                                                                                     record.transfer.status)

    @admin.display(description="Certificate here")
    def certificate_link(self, record):
        return admin_link(record.certificate, record.certificate.serial_base)

    def get_urls(self):
        return [path("record/", self.admin_site.admin_view(self.record_view), name="imports_import_record"),
                path("upload/", self.admin_site.admin_view(self.upload_view), name="imports_import_upload"),
                *super().get_urls()]

    def _page(self, request, template: str, context: dict):
        return TemplateResponse(request, template, {**self.admin_site.each_context(request), "opts": self.model._meta,
                                                    **context})

    def record_view(self, request):
        """One import, by the form: its refusal on the field it concerns (an overlap on the serial)."""
        form = ImportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                record = import_record(user=request.user, details=form.details())
            except ImportRefused as refusal:
                for field, message in refusal.problems.items():
                    form.add_error(field if field in form.fields else None, message)
            else:
                self.message_user(request, format_html(
                    "Import {} recorded: {} as {}, waiting for {} to accept or reject it.", record.pk,
                    record.original_serial, record.certificate.serial_base + f"-1 to {record.quantity}",
                    record.recipient.name), messages.SUCCESS)
                return redirect(reverse("admin:imports_import_changelist"))
        return self._page(request, "admin/imports/record.html", {"title": "Record an import", "form": form})

    def upload_view(self, request):
        """Many imports, by an import file: every row checked, then all recorded or none."""
        form = ImportFileForm(request.POST or None, request.FILES or None)
        errors = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            rows, row_errors = import_file_read(upload.read())
            errors = [error.as_dict() for error in row_errors]
            if not errors:
                try:
                    recorded = imports_record_file(user=request.user, rows=rows, filename=upload.name)
                except ImportRefused as refusal:
                    errors = [{"row": refusal.row or "", "column": FIELD_COLUMNS.get(field, ""), "value": "",
                               "message": message} for field, message in refusal.problems.items()]
                else:
                    self.message_user(request, f"Recorded {count_text(len(recorded), 'import')} from {upload.name}.",
                                      messages.SUCCESS)
                    return redirect(reverse("admin:imports_import_changelist"))
        return self._page(request, "admin/imports/upload.html", {"title": "Upload an import file", "form": form,
                                                                  "errors": errors, "columns": FIELD_COLUMNS})


@admin.register(ImportSource)
class ImportSourceAdmin(ReadOnlyAdmin):
    list_display = ["tracking_system", "organization", "account", "created_at"]


class PeerRegistryForm(forms.ModelForm):
    class Meta:
        model = PeerRegistry
        fields = ["tracking_system", "url", "public_key"]

    def clean_public_key(self):
        text = self.cleaned_data["public_key"].strip()
        try:
            raw = base64.b64decode(text, validate=True)
        except binascii.Error:
            raw = b""
        if len(raw) != 32:
            raise forms.ValidationError("Give the registry's Ed25519 public key as it publishes it: the base64 of "
                                        "32 bytes (44 characters).")
        return text


@admin.register(PeerRegistry)
class PeerRegistryAdmin(admin.ModelAdmin):
    """Registry staff configure the tracking systems that run this project too (their address and public key);
    this registry's own public key, to give them, is shown on the list."""

    form = PeerRegistryForm
    list_display = ["tracking_system", "url", "public_key", "created_at"]

    def changelist_view(self, request, extra_context=None):
        self.message_user(request, f"This registry ({settings.REGISTRY_CODE}) signs its messages with the public key "
                                   f"{public_key_text()}: give it to the registries configured here.", messages.INFO)
        return super().changelist_view(request, extra_context)


@admin.register(ReceivedMessage)
class ReceivedMessageAdmin(ReadOnlyAdmin):
    """The signed messages other registries running this project sent, each acted on once."""

    list_display = ["message_id", "type", "tracking_system", "export_reference", "transfer", "decision", "received_at"]
    list_filter = ["type", "tracking_system"]
    search_fields = ["=message_id", "=export_reference"]


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    """Each comparison with a registry running this project (imports.reconciling): staff read the differences."""

    list_display = ["ran_at", "tracking_system", "compared", "difference_count", "problem"]
    list_filter = ["tracking_system"]
    readonly_fields = ["tracking_system", "ran_at", "compared", "differences_text", "problem"]
    exclude = ["differences"]

    @admin.display(description="Differences")
    def difference_count(self, record):
        return len(record.differences)

    @admin.display(description="Differences")
    def differences_text(self, record):
        return format_html_join("\n", "<p>{}</p>", ((line,) for line in record.differences)) or "None"
