import base64
import io
from email.utils import parseaddr

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from utilities.parsing import positive_integer

from .forms import SignInForm, TimeZoneForm, TokenForm
from .models import Membership
from .selectors import SESSION_KEY
from .services import user_set_time_zone


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    if request.membership is None:
        return not_a_participant(request)
    return redirect("certificates:dashboard")


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


@login_required
@require_POST
def organization_switch(request: HttpRequest) -> HttpResponse:
    organization_id = positive_integer(request.POST.get("organization"))
    if organization_id is None:
        raise Http404("No such organization.")
    membership = get_object_or_404(Membership, user=request.user, organization_id=organization_id)
    request.session[SESSION_KEY] = membership.organization_id
    return redirect("certificates:dashboard")


def _qr_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def user_settings(request: HttpRequest) -> HttpResponse:
    """The signed-in user's own settings: the time zone their dates and times are shown in, and a
    way to two-factor sign-in."""
    user = request.user
    form = TimeZoneForm(request.POST if request.method == "POST" else None, current=user.time_zone)
    if request.method == "POST" and form.is_valid():
        user_set_time_zone(user=user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, f"Your time zone is now {user.time_zone}: dates and times on the pages, "
                                  "in downloads and in your emails are shown in it.")
        return redirect("settings")
    two_factor_on = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    return render(request, "registry/settings.html", {"form": form, "two_factor_on": two_factor_on,
                                                      "now": timezone.now()})


@login_required
@never_cache
def two_factor(request: HttpRequest) -> HttpResponse:
    """Turn TOTP two-factor sign-in on (scan, then confirm a code) or off (with a current code)."""
    user = request.user
    confirmed = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    pending = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    form = TokenForm(request.POST if request.method == "POST" else None)
    action = request.POST.get("action")
    if request.method == "POST":
        if action == "start" and not confirmed:
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
            return redirect("two-factor")
        if action in ("confirm", "disable") and form.is_valid():
            device = pending if action == "confirm" else confirmed
            if device is not None and device.verify_token(form.cleaned_data["token"].replace(" ", "")):
                if action == "confirm":
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                    otp_login(request, device)
                    messages.success(request, "Two-factor sign-in is on: you will be asked for a code each time.")
                else:
                    device.delete()
                    messages.success(request, "Two-factor sign-in is off.")
                return redirect("two-factor")
            form.add_error("token", "That code is not right (or has expired); try the current one.")
    context = {"confirmed": confirmed, "pending": pending, "form": form}
    if pending and not confirmed:
        context |= {"qr": _qr_data_uri(pending.config_url), "secret": base64.b32encode(pending.bin_key).decode()}
    return render(request, "registration/two_factor.html", context)


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 otherwise (for load balancers and Docker)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
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
