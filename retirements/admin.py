from django.contrib import admin

from utilities.admin_readonly import ReadOnlyAdmin

from .models import Retirement, RetirementOption


@admin.register(RetirementOption)
class RetirementOptionAdmin(admin.ModelAdmin):
    """Registry staff keep what a retirement can count toward. An option in use is never deleted
    (its retirements point to it): it is made inactive, and is then no longer offered."""

    list_display = ["name", "type", "reason", "state", "requires_compliance_period", "requires_beneficiary",
                    "is_active", "registry_only"]
    list_filter = ["type", "reason", "is_active", "registry_only"]
    search_fields = ["name", "state"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Retirement)
class RetirementAdmin(ReadOnlyAdmin):
    list_display = ["reference", "transfer", "option", "compliance_period", "beneficiary", "is_private"]
    list_filter = ["option", "compliance_period", "is_private"]
    search_fields = ["=reference", "=transfer__pk", "beneficiary", "transfer__organization__name"]
    list_select_related = ["transfer", "option"]
