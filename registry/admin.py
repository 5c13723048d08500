from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Membership, Organization, TrackingSystem, User
from .services import ServiceError, organization_set_status


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization", "user"]


def apply_to_each(modeladmin, request, queryset, change, done: str):
    """Run one service call per selected object; report what was done and what was refused."""
    changed = 0
    for obj in queryset:
        try:
            change(obj)
            changed += 1
        except ServiceError as error:
            modeladmin.message_user(request, f"{obj}: {error}", messages.ERROR)
    if changed:
        modeladmin.message_user(request, f"{changed} {done}.", messages.SUCCESS)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "status", "contact_email", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "public_id"]
    readonly_fields = ["public_id", "status", "created_at"]
    inlines = [MembershipInline]
    actions = ["suspend", "reinstate"]

    @admin.action(description="Suspend the selected organizations (they can neither send nor receive)")
    def suspend(self, request, queryset):
        apply_to_each(self, request, queryset, lambda org: organization_set_status(
            user=request.user, organization=org, status=Organization.Status.SUSPENDED, note="Suspended in the admin"),
            "organization(s) suspended")

    @admin.action(description="Reinstate the selected organizations")
    def reinstate(self, request, queryset):
        apply_to_each(self, request, queryset, lambda org: organization_set_status(
            user=request.user, organization=org, status=Organization.Status.ACTIVE, note="Reinstated in the admin"),
            "organization(s) reinstated")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role"]
    list_filter = ["role"]
    search_fields = ["user__email", "organization__name", "organization__public_id"]
    autocomplete_fields = ["user", "organization"]
    list_select_related = ["user", "organization"]


@admin.register(TrackingSystem)
class TrackingSystemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
