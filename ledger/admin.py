from django.contrib import admin

from utilities.admin_readonly import ReadOnlyAdmin

from .models import LedgerEvent


@admin.register(LedgerEvent)
class LedgerEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "kind", "actor", "organization", "transfer", "batch", "account"]
    list_filter = ["kind", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "=transfer__pk", "organization__name", "organization__public_id", "actor__email",
                     "account__public_id", "batch__certificate__serial_base", "note"]
    date_hierarchy = "occurred_at"
    list_select_related = ["actor", "organization", "account", "batch__certificate"]
    show_full_result_count = False
