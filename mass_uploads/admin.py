from django.contrib import admin

from utilities.admin_readonly import ReadOnlyAdmin, admin_links, number_column

from .models import MassTransferUpload


@admin.register(MassTransferUpload)
class MassTransferUploadAdmin(ReadOnlyAdmin):
    list_display = ["pk", "filename", "organization", "uploaded_by", "status", number_column("row_count", "Rows"),
                    "created_at"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["=pk", "filename", "sha256", "organization__name", "organization__public_id"]
    list_select_related = ["organization", "uploaded_by"]
    readonly_fields = ["transfers_made"]

    @admin.display(description="Transfers made")
    def transfers_made(self, upload):
        return admin_links(upload.transfers.order_by("pk"))
