from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from utilities.admin_readonly import ReadOnlyAdmin
from utilities.display import count_text
from utilities.time_zones import time_zone_choices

from .models import Invitation, Membership, Organization, TrackingSystem, User
from .services import (
    ServiceError,
    invitation_create,
    organization_set_billing,
    organization_set_kind,
    organization_set_status,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["organization", "user"]


def apply_to_each(modeladmin, request, queryset, change, done: tuple[str, str]):
    """Run one service call per selected object; report what was done (`done`: its words for one
    object and for several, "account frozen", "accounts frozen") and what was refused."""
    changed = 0
    for obj in queryset:
        try:
            change(obj)
            changed += 1
        except ServiceError as error:
            modeladmin.message_user(request, f"{obj}: {error}", messages.ERROR)
    if changed:
        modeladmin.message_user(request, f"{count_text(changed, *done)}.", messages.SUCCESS)


def status_action(name: str, description: str, service, status: str, done: tuple[str, str]):
    """An admin action that sets the status of each selected object through its service."""
    def action(modeladmin, request, queryset):
        apply_to_each(modeladmin, request, queryset,
                      lambda obj: service(request.user, obj, status, note=f"{description} (admin)"), done)
    action.__name__ = name
    return admin.action(description=description)(action)


def _set_organization_status(user, organization, status, note):
    organization_set_status(user=user, organization=organization, status=status, note=note)


def _set_organization_kind(user, organization, kind, note):
    organization_set_kind(user=user, organization=organization, kind=kind, note=note)


class ManagerInvitationForm(forms.Form):
    email = forms.EmailField(label="Manager's email address", max_length=254)


class OrganizationBillingForm(forms.Form):
    """The billing contact (one of the organization's members, or none: its managers) and tier."""

    billing_contact = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="None: invoices go to its managers",
        help_text="Any member; its invoices, reminders and overdue notices are sent there.")
    billing_tier = forms.ChoiceField(choices=Organization.Tier.choices, label="Subscription tier")

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["billing_contact"].queryset = User.objects.filter(
            memberships__organization=organization).order_by("email")
        self.fields["billing_contact"].label_from_instance = (
            lambda user: f"{user.full_name} ({user.email})" if user.full_name else user.email)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["public_id", "name", "kind", "status", "contact_email", "created_at", "invite_link"]
    list_filter = ["status", "kind"]
    search_fields = ["name", "public_id"]
    # Each changed by an action or a page of its own (billing_view), through a service, with a ledger event.
    readonly_fields = ["public_id", "status", "kind", "created_at", "billing_contact", "billing_tier", "billing_link"]
    inlines = [MembershipInline]
    actions = [
        status_action("suspend", "Suspend the selected organizations (they can neither send nor receive)",
                      _set_organization_status, Organization.Status.SUSPENDED,
                      ("organization suspended", "organizations suspended")),
        status_action("reinstate", "Reinstate the selected organizations",
                      _set_organization_status, Organization.Status.ACTIVE,
                      ("organization reinstated", "organizations reinstated")),
        status_action("make_regulator", "Make the selected organizations regulators (they read the retirements "
                      "toward the programs they administer)", _set_organization_kind, Organization.Kind.REGULATOR,
                      ("organization made a regulator", "organizations made regulators")),
        status_action("make_participant", "Make the selected organizations participants again",
                      _set_organization_kind, Organization.Kind.PARTICIPANT,
                      ("organization made a participant", "organizations made participants")),
    ]

    @admin.display(description="Managers")
    def invite_link(self, organization):
        return format_html('<a href="{}">Invite a manager</a>',
                           reverse("admin:registry_organization_invite", args=[organization.pk]))

    @admin.display(description="Billing")
    def billing_link(self, organization):
        if organization.pk is None:
            return "Once it is saved."
        return format_html('<a href="{}">Change the billing contact or tier</a>',
                           reverse("admin:registry_organization_billing", args=[organization.pk]))

    def get_urls(self):
        return [path("<int:pk>/invite/", self.admin_site.admin_view(self.invite_view),
                     name="registry_organization_invite"),
                path("<int:pk>/billing/", self.admin_site.admin_view(self.billing_view),
                     name="registry_organization_billing"), *super().get_urls()]

    def billing_view(self, request, pk):
        """The billing contact and tier, through organization_set_billing (the contact must be a member)."""
        organization = get_object_or_404(Organization, pk=pk)
        if not self.has_change_permission(request, organization):
            raise PermissionDenied
        form = OrganizationBillingForm(request.POST if request.method == "POST" else None, organization=organization,
                                       initial={"billing_contact": organization.billing_contact_id,
                                                "billing_tier": organization.billing_tier})
        if request.method == "POST" and form.is_valid():
            try:
                organization_set_billing(user=request.user, organization=organization,
                                         billing_contact=form.cleaned_data["billing_contact"],
                                         billing_tier=form.cleaned_data["billing_tier"])
            except ServiceError as error:
                form.add_error("billing_contact", str(error))
            else:
                self.message_user(request, f"Billing of {organization.name} saved.", messages.SUCCESS)
                return redirect("admin:registry_organization_change", organization.pk)
        return TemplateResponse(request, "admin/registry/billing.html", {
            **self.admin_site.each_context(request), "title": f"Billing of {organization}",
            "organization": organization, "form": form, "opts": self.model._meta})

    def response_add(self, request, obj, post_url_continue=None):
        """Onboarding: once the organization is saved, invite its first manager."""
        if "_continue" in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, f"{obj} was added. Now invite its first manager.", messages.SUCCESS)
        return redirect("admin:registry_organization_invite", obj.pk)

    def invite_view(self, request, pk):
        """Invite a manager of the organization by email, through the invitation service (the
        invitee sets their own password)."""
        organization = get_object_or_404(Organization, pk=pk)
        form = ManagerInvitationForm(request.POST if request.method == "POST" else None,
                                     initial={"email": organization.contact_email})
        if request.method == "POST" and form.is_valid():
            try:
                invitation = invitation_create(organization=organization, invited_by=request.user,
                                               email=form.cleaned_data["email"], role=Membership.Role.MANAGER)
            except ServiceError as error:
                form.add_error("email", str(error))
            else:
                self.message_user(request, f"Invitation sent to {invitation.email} to manage {organization.name}.",
                                  messages.SUCCESS)
                return redirect("admin:registry_organization_change", organization.pk)
        return TemplateResponse(request, "admin/registry/invite.html", {
            **self.admin_site.each_context(request), "title": f"Invite a manager of {organization}",
            "organization": organization, "form": form, "opts": self.model._meta,
            "invitation_days": settings.INVITATION_DAYS,
        })


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


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Read-only: invitations are made, resent and revoked through their services."""

    list_display = ["email", "organization", "role", "status", "invited_by", "sent_at", "expires_at"]
    list_filter = ["status", "role"]
    search_fields = ["email", "organization__name", "organization__public_id"]
    list_select_related = ["organization", "invited_by"]
    exclude = ["token_hash"]
