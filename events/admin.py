from django.contrib import admin, messages

from utilities.admin_readonly import ReadOnlyAdmin
from utilities.display import count_text

from .models import Claim, Event
from .services import claims_retry


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["id", "occurred_at", "kind", "organization_id", "other_organization_id", "subject_id"]
    list_filter = ["kind", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["=id", "=subject_id", "=organization_id"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


class SetAsideFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("set_aside", "Set aside"), ("waiting", "Waiting for a retry")]

    def queryset(self, request, queryset):
        if self.value() == "set_aside":
            return queryset.filter(set_aside_at__isnull=False)
        if self.value() == "waiting":
            return queryset.filter(set_aside_at__isnull=True, attempts__gt=0)
        return queryset


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    """What a consumer (emails, webhooks) owes and has not done yet: the failures with their error,
    and those set aside after EVENTS_MAX_ATTEMPTS attempts, which staff can try again."""

    list_display = ["id", "consumer", "event", "attempts", "due_at", "set_aside_at", "last_error_start"]
    list_filter = [SetAsideFilter, "consumer"]
    list_select_related = ["event"]
    readonly_fields = ["consumer", "event", "attempts", "due_at", "leased_until", "set_aside_at", "last_error"]
    actions = ["try_again"]

    @admin.display(description="last error")
    def last_error_start(self, claim: Claim) -> str:
        return claim.last_error[:120]

    @admin.action(description="Try the selected set-aside claims again")
    def try_again(self, request, queryset) -> None:
        retried = claims_retry(claim_ids=queryset.values_list("pk", flat=True))
        if retried:
            messages.success(request, f"{count_text(retried, 'set-aside claim')} will be tried again now.")
        else:
            messages.warning(request, "None of the selected claims was set aside: nothing changed.")
