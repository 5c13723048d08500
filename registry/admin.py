from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from utilities.time_zones import time_zone_choices

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


def status_action(name: str, description: str, service, status: str, done: str):
    """An admin action that sets the status of each selected object through its service."""
    def action(modeladmin, request, queryset):
        apply_to_each(modeladmin, request, queryset,
                      lambda obj: service(request.user, obj, status, note=f"{description} (admin)"), done)
    action.__name__ = name
    return admin.action(description=description)(action)


def _set_organization_status(user, organization, status, note):
    organization_set_status(user=user, organization=organization, status=status, note=note)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "status", "contact_email", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "public_id"]
    readonly_fields = ["public_id", "status", "created_at"]
    inlines = [MembershipInline]
    actions = [
        status_action("suspend", "Suspend the selected organizations (they can neither send nor receive)",
                      _set_organization_status, Organization.Status.SUSPENDED, "organization(s) suspended"),
        status_action("reinstate", "Reinstate the selected organizations",
                      _set_organization_status, Organization.Status.ACTIVE, "organization(s) reinstated"),
    ]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "time_zone"]}),
        ("Access", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]})]
    inlines = [MembershipInline]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "time_zone" in form.base_fields:  # chosen from the list the settings page offers
            form.base_fields["time_zone"].widget = forms.Select(
                choices=time_zone_choices(including=obj.time_zone if obj else ""))
        return form


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
