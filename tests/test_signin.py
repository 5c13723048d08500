"""Signing in: email and password, the second factor, and the lockouts after repeated failures."""

import datetime
import time

import pytest
from axes.models import AccessAttempt
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from registry.sessions import ACTIVE_AT, SIGNED_IN_AT
from utilities.display import datetime_text

from .factories import UserFactory


def sign_in(client, email, password, token="", address="203.0.113.9"):
    return client.post(reverse("login"), {"username": email, "password": password, "otp_token": token},
                       REMOTE_ADDR=address)


def test_repeated_failed_sign_ins_lock_the_account(client, trader, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, trader.email, "wrong").status_code == 200
    assert sign_in(client, trader.email, "wrong").status_code == 429  # the limit-th failure locks
    locked = sign_in(client, trader.email, "demo")  # and the right password does not get through
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()


def test_failed_sign_ins_are_counted_against_the_account_named(client, trader):
    sign_in(client, trader.email.upper(), "wrong")
    sign_in(client, trader.email, "wrong")
    assert list(AccessAttempt.objects.values_list("username", flat=True).distinct()) == [trader.email]
    assert AccessAttempt.objects.get().failures_since_start == 2  # the address's case is not a new account


def test_failures_from_one_address_lock_the_account_from_every_other(client, trader, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, trader.email, "wrong", address="127.0.0.2")
    assert sign_in(client, trader.email, "demo", address="127.0.0.3").status_code == 429
    assert sign_in(client, trader.email, "demo", address="127.0.0.2").status_code == 429


def test_guesses_spread_over_addresses_lock_the_account(client, trader):
    for guess in range(20):  # four from each of five addresses
        sign_in(client, trader.email, f"guess-{guess}", address=f"127.0.0.{10 + guess % 5}")
    assert sign_in(client, trader.email, "demo", address="127.0.0.20").status_code == 429


def test_failures_from_a_shared_address_do_not_lock_its_other_users_out(client, trader, viewer, staff, settings):
    for index in range(settings.AXES_FAILURE_LIMIT):  # one person behind the office's proxy
        sign_in(client, f"nobody{index}@example.org", "wrong")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, trader.email, "wrong")
    for colleague in (viewer, staff):
        response = sign_in(client, colleague.email, "demo")
        assert response.status_code == 302, colleague.email
        client.post(reverse("logout"))


def test_a_bare_address_is_locked_at_its_own_higher_limit(client, viewer, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for index in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT - 1):
        assert sign_in(client, f"nobody{index}@example.org", "wrong").status_code == 200
    assert sign_in(client, "one-more@example.org", "wrong").status_code == 429
    assert sign_in(client, viewer.email, "demo").status_code == 429
    assert sign_in(client, viewer.email, "demo", address="203.0.113.10").status_code == 302


def test_signing_in_to_ones_own_account_does_not_clear_the_failures_against_another(client, trader, viewer,
                                                                                   settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, trader.email, "wrong")
    assert sign_in(client, viewer.email, "demo").status_code == 302  # from the same address
    client.post(reverse("logout"))
    sign_in(client, trader.email, "wrong")
    assert sign_in(client, trader.email, "demo", address="127.0.0.30").status_code == 429


def test_the_locked_page_says_when_to_try_again(client, trader, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = sign_in(client, trader.email, "wrong")
    last_failure = AccessAttempt.objects.get(username=trader.email).attempt_time
    lifted = timezone.localtime(last_failure + datetime.timedelta(minutes=15))
    assert locked.status_code == 429
    assert f"Try again after {datetime_text(lifted)} (in 15 minutes)." in locked.content.decode()
    # Five minutes on, the right password is still refused, and trying does not push the time later.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - datetime.timedelta(minutes=5))
    again = sign_in(client, trader.email, "demo", address="127.0.0.40")
    earlier = lifted - datetime.timedelta(minutes=5)
    assert again.status_code == 429
    assert f"Try again after {datetime_text(earlier)} (in 10 minutes)." in again.content.decode()


def test_the_locked_page_points_to_the_password_reset(client, trader, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked = sign_in(client, trader.email, "wrong")
    page = locked.content.decode()
    assert f'<a href="{reverse("password_reset")}">Choose a new password by email</a>' in page
    assert "ask your organization's manager" not in page
    # Locked out, the same person can still ask for the reset link.
    response = client.post(reverse("password_reset"), {"email": trader.email})
    assert response.status_code == 302 and response.url == reverse("password_reset_done")


def test_the_account_is_unlocked_when_the_page_said(client, trader, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, trader.email, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=15, seconds=1))
    assert sign_in(client, trader.email, "demo").status_code == 302


def test_a_successful_sign_in_is_not_throttled(client, trader):
    sign_in(client, trader.email, "wrong")
    response = sign_in(client, trader.email, "demo")
    assert response.status_code == 302 and response.url == reverse("dashboard:certificates")


def test_totp_sign_in(client, trader):
    device = TOTPDevice.objects.create(user=trader, name="phone", confirmed=True)
    missing = sign_in(client, trader.email, "demo")
    assert "Enter the 6-digit code" in missing.content.decode()
    wrong = sign_in(client, trader.email, "demo", "000000" if totp(device.bin_key) != 0 else "111111")
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    right = sign_in(client, trader.email, "demo", f"{totp(device.bin_key):06d}")
    assert right.status_code == 302 and client.session.get("otp_device_id")


def test_turning_on_two_factor(signed_in, trader):
    client = signed_in(trader)
    url = reverse("two-factor")
    client.post(url, {"action": "start"})
    page = client.get(url).content.decode()
    assert "data:image/svg+xml;base64," in page and 'id="totp-secret"' in page
    device = TOTPDevice.objects.get(user=trader, confirmed=False)
    assert "not right" in client.post(url, {"action": "confirm", "token": "12345"}).content.decode()
    device.refresh_from_db()
    device.throttling_failure_count, device.throttling_failure_timestamp = 0, None
    device.save()
    client.post(url, {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    assert TOTPDevice.objects.get(user=trader).confirmed
    assert "Each sign-in asks for a code" in client.get(url).content.decode()


def test_the_admin_login_asks_for_the_code_too(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    response = client.post("/admin/login/?next=/admin/", {"username": staff.email, "password": "demo"})
    assert response.status_code == 200 and "Enter the 6-digit code" in response.content.decode()


# --- how long a session lasts ----------------------------------------------------------------------

DASHBOARD = "/certificates/"


def rewind(client, *, signed_in=0, active=0):
    """Move the session's clocks back by so many seconds, as if that much time had passed."""
    session = client.session
    session[SIGNED_IN_AT] -= signed_in
    session[ACTIVE_AT] -= active
    session.save()


@pytest.fixture
def trader_client(client, trader):
    assert sign_in(client, trader.email, "demo").status_code == 302
    return client


def session_writes(queries) -> list[str]:
    return [query["sql"] for query in queries.captured_queries
            if "django_session" in query["sql"] and not query["sql"].startswith("SELECT")]


def test_signing_in_starts_the_session_clocks(trader_client):
    session = trader_client.session
    assert abs(session[SIGNED_IN_AT] - time.time()) < 5 and session[ACTIVE_AT] == session[SIGNED_IN_AT]


def test_a_session_idle_for_30_minutes_is_signed_out_and_the_sign_in_page_says_why(trader_client):
    rewind(trader_client, signed_in=30 * 60, active=30 * 60)
    response = trader_client.get(DASHBOARD)
    assert response.status_code == 302 and response.url == f"{reverse('login')}?next={DASHBOARD}"
    page = trader_client.get(response.url).content.decode()
    assert "You were signed out after 30 minutes without activity." in page
    again = trader_client.get(DASHBOARD)  # signed out for good, and the reason is said once
    assert again.status_code == 302 and "signed out" not in trader_client.get(again.url).content.decode()


def test_activity_keeps_a_session_alive(trader_client):
    rewind(trader_client, signed_in=29 * 60, active=29 * 60)
    assert trader_client.get(DASHBOARD).status_code == 200
    rewind(trader_client, signed_in=29 * 60, active=29 * 60)  # 58 minutes after signing in
    assert trader_client.get(DASHBOARD).status_code == 200


def test_a_session_ends_12_hours_after_signing_in_however_active(trader_client):
    rewind(trader_client, signed_in=12 * 3600, active=10)
    response = trader_client.get(DASHBOARD)
    assert response.status_code == 302
    page = trader_client.get(response.url).content.decode()
    assert "You were signed out after 12 hours; please sign in again." in page


def test_the_limits_come_from_the_settings(trader_client, settings):
    settings.SESSION_IDLE_MINUTES = 5
    rewind(trader_client, active=5 * 60)
    page = trader_client.get(DASHBOARD, follow=True).content.decode()
    assert "You were signed out after 5 minutes without activity." in page


def test_the_activity_stamp_is_written_at_most_once_a_minute(trader_client):
    rewind(trader_client, active=30)
    stamp = trader_client.session[ACTIVE_AT]
    with CaptureQueriesContext(connection) as queries:
        assert trader_client.get(DASHBOARD).status_code == 200
    assert session_writes(queries) == [] and trader_client.session[ACTIVE_AT] == stamp
    rewind(trader_client, active=31)  # a minute since the stamp
    with CaptureQueriesContext(connection) as queries:
        assert trader_client.get(DASHBOARD).status_code == 200
    assert len(session_writes(queries)) == 1 and abs(trader_client.session[ACTIVE_AT] - time.time()) < 5


def test_an_htmx_request_on_an_ended_session_sends_the_browser_to_sign_in(trader_client):
    rewind(trader_client, active=30 * 60)
    response = trader_client.get(f"{DASHBOARD}?fuel=wind", headers={
        "HX-Request": "true", "HX-Target": "results", "HX-Current-URL": f"http://testserver{DASHBOARD}?tab=active"})
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/certificates/%3Ftab%3Dactive"
    page = trader_client.get(response["HX-Redirect"]).content.decode()
    assert "You were signed out after 30 minutes without activity." in page


def test_an_htmx_request_without_a_session_sends_the_browser_to_sign_in(client, db):
    response = client.get(f"{DASHBOARD}?fuel=wind", headers={
        "HX-Request": "true", "HX-Target": "results", "HX-Current-URL": f"http://testserver{DASHBOARD}"})
    assert response.status_code == 200 and response["HX-Redirect"] == f"{reverse('login')}?next={DASHBOARD}"


def test_expired_sessions_are_deleted(trader_client):
    from django.contrib.sessions.models import Session

    from registry.tasks import clear_expired_sessions

    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    clear_expired_sessions()
    assert not Session.objects.exists()


def test_a_session_past_its_expiry_or_deleted_signs_nobody_in(signed_in, trader):
    """registry.sessions.SessionStore reads the row itself: a row past its expiry date (the cookie's
    age) or gone (signed out elsewhere, cleared by staff) is no session."""
    from django.contrib.sessions.models import Session

    client = signed_in(trader)
    assert client.get(DASHBOARD).status_code == 200
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get(DASHBOARD).url.startswith(reverse("login"))
    client = signed_in(trader)
    assert client.get(DASHBOARD).status_code == 200
    Session.objects.all().delete()
    assert client.get(DASHBOARD).url.startswith(reverse("login"))


def test_a_session_key_the_database_does_not_hold_is_replaced_by_a_new_one(db):
    """A cookie's key with no row (forged, or its session ended) is never adopted: the session saved
    for it gets a key of its own (Django's guard against session fixation)."""
    from django.contrib.sessions.models import Session

    from registry.sessions import SessionStore

    store = SessionStore("a" * 32)
    assert store.load() == {} and store.session_key is None
    store["visited"] = True
    store.save()
    assert store.session_key != "a" * 32
    assert SessionStore(store.session_key).load() == {"visited": True}
    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]
