from django.contrib import admin

from registry.admin import status_action

from .models import Account
from .services import account_set_status


def _set_account_status(user, account, status, note):
    account_set_status(user=user, account=account, status=status, note=note)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "organization", "type", "status", "created_at"]
    list_filter = ["type", "status"]
    search_fields = ["public_id", "name", "organization__name", "organization__public_id"]
    readonly_fields = ["public_id", "status", "created_at"]
    autocomplete_fields = ["organization"]
    list_select_related = ["organization"]
    actions = [
        status_action("freeze", "Freeze the selected accounts (they can neither send nor receive)",
                      _set_account_status, Account.Status.FROZEN, ("account frozen", "accounts frozen")),
        status_action("unfreeze", "Unfreeze the selected accounts",
                      _set_account_status, Account.Status.OPEN, ("account unfrozen", "accounts unfrozen")),
    ]

    def get_readonly_fields(self, request, obj=None):
        # An account's owner and type are fixed once it holds certificates.
        return [*self.readonly_fields, "organization", "type"] if obj else self.readonly_fields
