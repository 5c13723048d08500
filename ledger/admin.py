from django.contrib import admin

from registry.admin_readonly import ReadOnlyAdmin

from .models import LedgerEvent


@admin.register(LedgerEvent)
class LedgerEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "kind", "actor", "organization", "transfer", "batch"]
    list_filter = ["kind"]
    search_fields = ["organization__name", "actor__email", "note"]
    date_hierarchy = "occurred_at"
    list_select_related = ["actor", "organization"]
