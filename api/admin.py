from django.contrib import admin
from rest_framework_api_key.models import APIKey

from utilities.admin_readonly import ReadOnlyAdmin

from .models import ApiKey

# The package's own key model is unused (ours is api.ApiKey): not offered to staff.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    """Organizations' API keys, for staff to look at: their managers create and revoke them."""

    list_display = ["name", "organization", "scope", "prefix", "created_by", "created", "expiry_date", "last_used_at",
                    "revoked"]
    list_filter = ["scope", "revoked"]
    list_select_related = ["organization", "created_by"]
    search_fields = ["name", "prefix", "organization__name", "organization__public_id"]
    exclude = ["hashed_key"]
