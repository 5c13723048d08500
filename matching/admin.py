from django.contrib import admin

from utilities.admin_readonly import ReadOnlyAdmin

from .models import ConsumptionReading, ConsumptionSite, MatchingStatement


@admin.register(ConsumptionSite)
class ConsumptionSiteAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "organization", "grid_area", "created_at"]
    search_fields = ["code", "name", "organization__name", "organization__public_id"]
    list_filter = ["grid_area"]


@admin.register(ConsumptionReading)
class ConsumptionReadingAdmin(ReadOnlyAdmin):
    list_display = ["site", "period", "wh", "matched_wh"]
    search_fields = ["site__code", "site__organization__name"]
    list_select_related = ["site"]


@admin.register(MatchingStatement)
class MatchingStatementAdmin(ReadOnlyAdmin):
    list_display = ["retirement", "site", "created_at"]
    search_fields = ["retirement__reference", "site__code", "site__organization__name"]
    list_select_related = ["retirement", "site"]
