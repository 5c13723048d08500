from django.contrib import admin

from registry.admin import apply_to_each

from .models import Account
from .services import account_set_status


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "organization", "type", "status", "created_at"]
    list_filter = ["type", "status"]
    search_fields = ["public_id", "name", "organization__name", "organization__public_id"]
    readonly_fields = ["public_id", "status", "created_at"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
    actions = ["freeze", "unfreeze"]

    def get_readonly_fields(self, request, obj=None):
        # An account's owner and type are fixed once it holds certificates.
        return [*self.readonly_fields, "organization", "type"] if obj else self.readonly_fields

    @admin.action(description="Freeze the selected accounts (they can neither send nor receive)")
    def freeze(self, request, queryset):
        apply_to_each(self, request, queryset, lambda account: account_set_status(
            user=request.user, account=account, status=Account.Status.FROZEN, note="Frozen in the admin"),
            "account(s) frozen")

    @admin.action(description="Unfreeze the selected accounts")
    def unfreeze(self, request, queryset):
        apply_to_each(self, request, queryset, lambda account: account_set_status(
            user=request.user, account=account, status=Account.Status.OPEN, note="Unfrozen in the admin"),
            "account(s) unfrozen")
