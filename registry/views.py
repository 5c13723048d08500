import base64
import io
from email.utils import parseaddr

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from utilities.csv_export import csv_response
from utilities.display import datetime_text
from utilities.filters import download_refused
from utilities.htmx import htmx_partial
from utilities.parsing import positive_integer

from .activity import event_person, event_sentence
from .filters import ActivityFilter
from .forms import (
    EmailPreferencesForm,
    InvitationForm,
    NameForm,
    NewMemberForm,
    RequireTwoFactorForm,
    RoleForm,
    SignInForm,
    TimeZoneForm,
    TokenForm,
)
from .invitations import LinkRefused
from .models import EmailEvent, Membership, User
from .selectors import (
    LINK_ORGANIZATION,
    activity_of,
    invitation_by_token,
    invitation_of,
    invitations_pending,
    member_of,
    members_of,
    membership_required,
    two_factor_device,
    two_factor_on,
)
from .services import (
    CodeRefused,
    ServiceError,
    invitation_accept,
    invitation_create,
    invitation_resend,
    invitation_revoke,
    member_remove,
    member_role_change,
    organization_choose,
    organization_require_two_factor,
    two_factor_confirm,
    two_factor_disable,
    two_factor_start,
    user_set_emails,
    user_set_name,
    user_set_time_zone,
)


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    if request.membership is None:
        return not_a_participant(request)
    return redirect("dashboard:certificates")


def not_a_participant(request: HttpRequest) -> HttpResponse:
    """A signed-in user who is a member of no organization: registry staff (the admin's "View site")
    go to the admin site; anyone else is told the portal is for participants and whom to ask."""
    if request.user.is_staff:
        return redirect("admin:index")
    staff_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return render(request, "registration/not_a_participant.html", {"staff_address": staff_address}, status=403)


class SignInView(auth_views.LoginView):
    """Email and password, then the authenticator code for users with two-factor sign-in on."""

    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        device = getattr(form, "otp_device", None)
        if device is not None:
            otp_login(self.request, device)  # this session is verified with the second factor
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (the current password, then a new one through the validators), in
    the portal's layout; the session stays signed in, and the settings page says it worked."""

    template_name = "registry/password_change.html"
    success_url = reverse_lazy("settings")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password has been changed.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset by email. The link is built on SITE_URL, as every email's links are
    (not on the Host header a request happens to carry); an unknown address is told the same as a
    known one, so the page does not reveal who has an account."""

    template_name = "registry/password_reset.html"
    email_template_name = "registry/email/password_reset.txt"
    subject_template_name = "registry/email/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    @property
    def extra_email_context(self):
        return {"site_url": settings.SITE_URL, "registry_name": settings.REGISTRY_NAME,
                "days": settings.PASSWORD_RESET_TIMEOUT // 86400}


@login_required
@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    organization_id = positive_integer(request.POST.get("organization"))
    if organization_id is None:
        raise Http404("No such organization.")
    membership = get_object_or_404(Membership, user=request.user, organization_id=organization_id)
    organization_choose(session=request.session, membership=membership, current=request.membership)
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        return redirect(next_url)
    return redirect("dashboard:certificates")


def organization_for_link(request: HttpRequest, linked: Membership) -> HttpResponse:
    """A link written for another of the reader's organizations (an email's): say so, and offer to
    switch to it and go on, rather than answer 404 from the one they work in now."""
    query = request.GET.copy()
    query.pop(LINK_ORGANIZATION)
    next_url = request.path + (f"?{query.urlencode()}" if query else "")
    return render(request, "registry/organization_for_link.html", {"linked": linked, "next_url": next_url})


def _qr_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own settings: their name, the time zone their dates and times are shown
    in, and the ways to change their password and to two-factor sign-in."""
    user = request.user
    section = request.POST.get("section", "time-zone") if request.method == "POST" else None
    name_form = NameForm(request.POST if section == "name" else None, initial={"full_name": user.full_name})
    if section == "name" and name_form.is_valid():
        user_set_name(user=user, full_name=name_form.cleaned_data["full_name"])
        messages.success(request, f"Your name is now {user.full_name}.")
        return redirect("settings")
    emails_form = EmailPreferencesForm(request.POST if section == "emails" else None, initial={
        "emails": [event for event in EmailEvent.values if user.wants_email(event)]})
    if section == "emails" and emails_form.is_valid():
        user_set_emails(user=user, wanted=emails_form.cleaned_data["emails"])
        messages.success(request, "Your email choices are saved; they apply to every email from now on, "
                                  "including those already waiting to be sent.")
        return redirect("settings")
    form = TimeZoneForm(request.POST if section == "time-zone" else None, current=user.time_zone)
    if form.is_bound and form.is_valid():
        user_set_time_zone(user=user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, f"Your time zone is now {user.time_zone}: dates and times on the pages, "
                                  "in downloads and in your emails are shown in it.")
        return redirect("settings")
    return render(request, "registry/settings.html", {"form": form, "name_form": name_form, "emails_form": emails_form,
                                                      "two_factor_on": two_factor_on(user), "now": timezone.now()})


@login_required
@never_cache
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn TOTP two-factor sign-in on (scan, then confirm a code) or off (with a current code)."""
    user = request.user
    form = TokenForm(request.POST if request.method == "POST" else None)
    action = request.POST.get("action")
    try:
        if request.method == "POST" and action == "start":
            two_factor_start(user=user)
            return redirect("two-factor")
        if request.method == "POST" and action in ("confirm", "disable") and form.is_valid():
            if action == "confirm":
                otp_login(request, two_factor_confirm(user=user, code=form.cleaned_data["token"]))
                messages.success(request, "Two-factor sign-in is on: you will be asked for a code each time.")
            else:
                two_factor_disable(user=user, code=form.cleaned_data["token"])
                messages.success(request, "Two-factor sign-in is off.")
            return redirect("two-factor")
    except CodeRefused as refusal:
        form.add_error("token", str(refusal))
    except ServiceError as refusal:
        messages.error(request, str(refusal))
        return redirect("two-factor")
    confirmed = two_factor_device(user, confirmed=True)
    pending = two_factor_device(user, confirmed=False)
    requiring = [m.organization for m in getattr(request, "memberships", []) if m.organization.require_two_factor]
    context = {"confirmed": confirmed, "pending": pending, "form": form, "requiring": requiring}
    if pending and not confirmed:
        context |= {"qr": _qr_data_uri(pending.config_url), "secret": base64.b32encode(pending.bin_key).decode()}
    return render(request, "registration/two_factor.html", context)


def _members_page(request: HttpRequest, membership: Membership, invitation_form: InvitationForm) -> HttpResponse:
    organization = membership.organization
    return render(request, "registry/members.html", {
        "members": members_of(organization), "invitations": invitations_pending(organization),
        "invitation_form": invitation_form, "roles": Membership.Role.choices,
        "invitation_days": settings.INVITATION_DAYS,
    })


@login_required
@require_POST
def members_two_factor(request: HttpRequest) -> HttpResponse:
    """Require two-factor sign-in of every member, or stop requiring it."""
    membership = membership_required(request, manage=True)
    form = RequireTwoFactorForm(request.POST)
    required = form.is_valid() and form.cleaned_data["required"]
    try:
        organization_require_two_factor(user=request.user, organization=membership.organization, required=required)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Every member must now sign in with two-factor; those without it are sent "
                                  "to set it up." if required else "Two-factor sign-in is now each member's choice.")
    return redirect("members:list")


@login_required
def members(request: HttpRequest) -> HttpResponse:
    """The organization's members and pending invitations; a manager invites here (POST)."""
    membership = membership_required(request, manage=True)
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitation_create(organization=membership.organization, invited_by=request.user,
                                           email=form.cleaned_data["email"], role=form.cleaned_data["role"])
        except ServiceError as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"Invitation sent to {invitation.email} as a "
                                      f"{invitation.get_role_display().lower()}.")
            return redirect("members:list")
    return _members_page(request, membership, form)


@login_required
@require_POST
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    membership = membership_required(request, manage=True)
    member = member_of(membership.organization, member_id)
    form = RoleForm(request.POST)
    try:
        if not form.is_valid():
            raise ServiceError(" ".join(form.errors["role"]))
        changed = member_role_change(user=request.user, organization=membership.organization, member=member,
                                     role=form.cleaned_data["role"])
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{changed.user.email} is now a {changed.get_role_display().lower()}.")
    return redirect("members:list")


@login_required
def member_remove_confirm(request: HttpRequest, member_id: int) -> HttpResponse:
    """Asks before removing (a page, so it works without JavaScript); the POST removes."""
    membership = membership_required(request, manage=True)
    member = member_of(membership.organization, member_id)
    if request.method == "POST":
        try:
            member_remove(user=request.user, organization=membership.organization, member=member)
        except ServiceError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{member.user.email} was removed from {membership.organization.name}; "
                                      "their access ended at once.")
        return redirect("members:list")
    return render(request, "registry/member_remove.html", {"member": member})


@login_required
@require_POST
def invitation_manage(request: HttpRequest, invitation_id: int, action: str) -> HttpResponse:
    """Resend or revoke a pending invitation of the organization."""
    membership = membership_required(request, manage=True)
    invitation = invitation_of(membership.organization, invitation_id)
    try:
        if action == "resend":
            invitation_resend(invitation=invitation, user=request.user)
            messages.success(request, f"Invitation sent again to {invitation.email}; the earlier link no "
                                      "longer works.")
        else:
            invitation_revoke(invitation=invitation, user=request.user)
            messages.success(request, f"The invitation to {invitation.email} was withdrawn; its link no "
                                      "longer works.")
    except ServiceError as error:
        messages.error(request, str(error))
    return redirect("members:list")


@never_cache
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The link in an invitation email: a new person sets their name and password; someone with an
    account signs in as the invited address and joins. Refused links say why."""
    try:
        invitation = invitation_by_token(token)
    except LinkRefused as refused:
        return render(request, "registry/invitation.html", {"refused": str(refused)}, status=404)
    user = request.user if request.user.is_authenticated else None
    if user is not None and user.email.lower() != invitation.email:
        return render(request, "registry/invitation.html", {"invitation": invitation, "signed_in_as_other": True})
    existing = User.objects.filter(email__iexact=invitation.email).exists()
    form = None if existing else NewMemberForm(request.POST if request.method == "POST" else None,
                                               email=invitation.email)
    if request.method == "POST":
        try:
            if existing and user is not None:
                membership = invitation_accept(invitation=invitation, user=user)
                organization_choose(session=request.session, membership=membership, current=request.membership)
                messages.success(request, f"You joined {invitation.organization.name} as a "
                                          f"{membership.get_role_display().lower()}.")
                return redirect("dashboard:certificates")
            if form is not None and form.is_valid():
                invitation_accept(invitation=invitation, full_name=form.cleaned_data["full_name"],
                                  password=form.cleaned_data["new_password1"])
                messages.success(request, f"Your account is ready. Sign in with {invitation.email} and your "
                                          f"new password to reach {invitation.organization.name}.")
                return redirect("login")
        except ServiceError as error:
            return render(request, "registry/invitation.html", {"refused": str(error)}, status=400)
    return render(request, "registry/invitation.html", {"invitation": invitation, "form": form,
                                                        "existing": existing, "signed_in": user is not None})


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 otherwise (for load balancers and Docker)."""
    checks = {}
    try:
        with connection.cursor() as cursor:  # the least the server can answer; no model is involved
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # any failure means unhealthy; the message says which
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2).ping()
        checks["broker"] = "ok"
    except Exception as error:
        checks["broker"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


ACTIVITY_PAGE_SIZE = 50
ACTIVITY_CSV_HEADER = ["When", "Who", "Kind", "What"]


def _activity_filtered(request: HttpRequest) -> tuple[Membership, ActivityFilter, QuerySet]:
    """The current organization's activity under the filter in the query string; while the filter is
    wrong, all of it (the page says what to correct)."""
    membership = membership_required(request)
    events = activity_of(membership.organization)
    activity_filter = ActivityFilter(request.GET or None, queryset=events, organization=membership.organization)
    return membership, activity_filter, activity_filter.qs if activity_filter.is_valid() else events


@login_required
def activity(request: HttpRequest) -> HttpResponse:
    """The organization's activity log: every member of any role may read it."""
    membership, activity_filter, events = _activity_filtered(request)
    page = Paginator(events, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    organization = membership.organization
    rows = [(event, event_person(event, organization), event_sentence(event, organization))
            for event in page.object_list]
    template = "registry/activity.html"
    if htmx_partial(request) and request.htmx.target == "results":
        template += "#results"
    return render(request, template, {"filter": activity_filter, "page": page, "rows": rows})


@login_required
def activity_csv(request: HttpRequest) -> HttpResponse:
    """The activity log under the page's filter, as CSV."""
    membership, activity_filter, events = _activity_filtered(request)
    if refused := download_refused(activity_filter):
        return refused
    organization = membership.organization

    def lines():
        for event in events.iterator(chunk_size=2000):
            yield [datetime_text(event.occurred_at), event_person(event, organization), event.get_kind_display(),
                   event_sentence(event, organization)]

    return csv_response(f"activity-{organization.public_id}.csv", ACTIVITY_CSV_HEADER, lines())
