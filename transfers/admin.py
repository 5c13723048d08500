from django.contrib import admin

from registry.admin_readonly import ReadOnlyAdmin

from .models import Transfer, TransferItem


class TransferItemInline(admin.TabularInline):
    model = TransferItem
    extra = 0
    fields = ["batch", "source_batch", "source_account"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "status", "organization", "recipient_organization", "tracking_system", "submitted_at"]
    list_filter = ["kind", "status"]
    search_fields = ["pk", "organization__name", "recipient_organization__name", "notes"]
    list_select_related = ["organization", "recipient_organization", "tracking_system"]
    inlines = [TransferItemInline]


@admin.register(TransferItem)
class TransferItemAdmin(ReadOnlyAdmin):
    list_display = ["transfer", "batch", "source_batch", "source_account"]
