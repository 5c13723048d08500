"""Each person's own account: a forgotten password reset by email, a password change, their name;
and an organization that requires two-factor sign-in of its members (Django's own auth views)."""

import re

import pytest
from django.core import mail
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from events.models import Event
from ledger.models import LedgerEvent
from registry.models import Organization, User

from .conftest import signed_in_as

pytestmark = pytest.mark.django_db

LINK = re.compile(r"(https://registry\.example\.org)(/password/reset/\S+/)")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://registry.example.org"


# Forgotten password

def test_a_forgotten_password_is_reset_by_an_emailed_link_built_on_site_url(client, trader, settings):
    settings.ALLOWED_HOSTS = ["portal.internal"]
    mail.outbox.clear()
    sign_in_page = client.get(reverse("login"), HTTP_HOST="portal.internal").content.decode()
    assert '<a href="/password/reset/">Forgot your password?</a>' in sign_in_page
    response = client.post(reverse("password_reset"), {"email": trader.email.upper()},
                           HTTP_HOST="portal.internal")  # the address the request came by is not the link's
    assert response.status_code == 302 and response.url == reverse("password_reset_done")
    [message] = mail.outbox
    assert message.to == [trader.email]
    assert message.subject == "[Midwest Renewable Energy Registry] Choose a new password"
    site, path = LINK.search(message.body).groups()
    assert "portal.internal" not in message.body and site == "https://registry.example.org"
    form = client.get(path, follow=True, HTTP_HOST="portal.internal")
    assert "Choose a new password" in form.content.decode()
    set_url = form.redirect_chain[-1][0]
    refused = client.post(set_url, {"new_password1": "password", "new_password2": "password"},
                          HTTP_HOST="portal.internal")
    assert "This password is too common." in refused.content.decode()
    done = client.post(set_url, {"new_password1": "wind-farm-ledger-9", "new_password2": "wind-farm-ledger-9"},
                       HTTP_HOST="portal.internal")
    assert done.status_code == 302 and done.url == reverse("password_reset_complete")
    trader.refresh_from_db()
    assert trader.check_password("wind-farm-ledger-9")
    again = client.get(path, follow=True, HTTP_HOST="portal.internal").content.decode()  # the link works once
    assert "This link is not valid: it has been used already, or it has expired." in again


def test_an_unknown_address_is_told_the_same_and_gets_nothing(client, trader):
    mail.outbox.clear()
    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"}, follow=True)
    assert "If an account uses that address, we have sent it a link" in response.content.decode()
    assert mail.outbox == []


def test_a_tampered_reset_link_is_refused(client, trader):
    page = client.get("/password/reset/MQ/abc-123/", follow=True).content.decode()
    assert "This link is not valid" in page
    trader.refresh_from_db()
    assert trader.check_password("demo")


# Change password and name

def test_a_password_is_changed_with_the_current_one_and_the_session_stays(trader):
    client = signed_in_as(trader)
    assert 'href="/password/change/"' in client.get(reverse("settings")).content.decode()
    wrong = client.post(reverse("password_change"), {"old_password": "nope", "new_password1": "wind-farm-ledger-9",
                                                     "new_password2": "wind-farm-ledger-9"})
    assert "Your old password was entered incorrectly." in wrong.content.decode()
    weak = client.post(reverse("password_change"), {"old_password": "demo", "new_password1": "12345678",
                                                    "new_password2": "12345678"})
    assert "This password is entirely numeric." in weak.content.decode()
    trader.refresh_from_db()
    assert trader.check_password("demo")
    response = client.post(reverse("password_change"), {"old_password": "demo", "new_password1": "wind-farm-ledger-9",
                                                        "new_password2": "wind-farm-ledger-9"}, follow=True)
    assert "Your password has been changed." in response.content.decode()
    trader.refresh_from_db()
    assert trader.check_password("wind-farm-ledger-9")
    assert client.get("/certificates/").status_code == 200  # still signed in


def test_a_name_is_changed_on_the_settings_page(trader):
    client = signed_in_as(trader)
    response = client.post(reverse("settings"), {"section": "name", "full_name": "  Tess Trader "}, follow=True)
    assert "Your name is now Tess Trader." in response.content.decode()
    trader.refresh_from_db()
    assert trader.full_name == "Tess Trader"
    refused = client.post(reverse("settings"), {"section": "name", "full_name": ""}).content.decode()
    assert "Enter your name." in refused
    trader.refresh_from_db()
    assert trader.full_name == "Tess Trader" and trader.time_zone == "America/Chicago"


def test_the_signed_out_cannot_change_a_password(client):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith("/login/")


# Two-factor: seen by managers, required by the organization

def test_managers_see_who_has_two_factor_on(manager, trader, viewer):
    TOTPDevice.objects.create(user=trader, name="phone", confirmed=True)
    TOTPDevice.objects.create(user=viewer, name="phone", confirmed=False)  # started, never confirmed
    page = signed_in_as(manager).get("/organization/members/").content.decode()
    rows = {email: row for row in page.split("<tr>") for email in (manager.email, trader.email, viewer.email)
            if email in row}
    assert "status-active\">On" in rows[trader.email]
    assert ">Off<" in rows[viewer.email] and ">Off<" in rows[manager.email]


def test_an_organization_requiring_two_factor_sends_members_without_it_to_set_it_up(manager, trader, org):
    response = signed_in_as(manager).post(reverse("members:two-factor"), {"required": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("two-factor")  # the manager too has to set it up
    assert Organization.objects.get(pk=org.pk).require_two_factor
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.ORGANIZATION_SETTINGS)
    assert (event.actor, event.before, event.after) == (manager, {"require_two_factor": False},
                                                        {"require_two_factor": True})

    client = signed_in_as(trader)
    for page in ("/certificates/", "/accounts/", "/settings/", "/transfers/mass/"):
        response = client.get(page)
        assert response.status_code == 302 and response.url == reverse("two-factor"), page
    page = client.get(reverse("two-factor")).content.decode()
    assert f"Prairie Wind Energy ({org.public_id}) requires two-factor sign-in of its members." in page
    assert "requires two-factor sign-in: set it up to continue" in page
    htmx = client.get("/certificates/", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == reverse("two-factor")

    client.post(reverse("two-factor"), {"action": "start"})
    device = TOTPDevice.objects.get(user=trader)
    client.post(reverse("two-factor"), {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    assert client.get("/certificates/").status_code == 200  # verified in this session: let through
    refused = client.post(reverse("two-factor"), {"action": "disable", "token": f"{totp(device.bin_key):06d}"},
                          follow=True)
    assert "Prairie Wind Energy requires two-factor sign-in of its members, so it stays on." in refused.content.decode()
    assert TOTPDevice.objects.filter(user=trader, confirmed=True).exists()
    assert not LedgerEvent.objects.filter(kind=LedgerEvent.Kind.TWO_FACTOR_OFF).exists()


def test_turning_two_factor_on_and_off_are_ledger_events_of_the_user(trader):
    client = signed_in_as(trader)
    client.post(reverse("two-factor"), {"action": "start"})
    assert not LedgerEvent.objects.filter(actor=trader).exists()  # started, not on: nothing to record
    device = TOTPDevice.objects.get(user=trader)
    client.post(reverse("two-factor"), {"action": "confirm", "token": f"{totp(device.bin_key):06d}"})
    again = client.post(reverse("two-factor"), {"action": "start"}, follow=True)
    assert "Two-factor sign-in is already on." in again.content.decode()
    assert list(TOTPDevice.objects.filter(user=trader).values_list("pk", "confirmed")) == [(device.pk, True)]
    device.refresh_from_db()
    device.last_t -= 1  # the same code may not be used twice: as if the next one were shown
    device.save(update_fields=["last_t"])
    off = client.post(reverse("two-factor"), {"action": "disable", "token": f"{totp(device.bin_key):06d}"},
                      follow=True)
    assert "Two-factor sign-in is off." in off.content.decode()
    assert not TOTPDevice.objects.filter(user=trader).exists()
    person = {"user": trader.pk, "email": trader.email}
    assert [(e.kind, e.actor, e.organization, e.before, e.after) for e in LedgerEvent.objects.all()] == [
        (LedgerEvent.Kind.TWO_FACTOR_ON, trader, None, person | {"two_factor": False}, person | {"two_factor": True}),
        (LedgerEvent.Kind.TWO_FACTOR_OFF, trader, None, person | {"two_factor": True}, person | {"two_factor": False}),
    ]
    assert [(e.kind, e.organization_id, e.subject_id, e.data) for e in Event.objects.order_by("pk")] == [
        (Event.Kind.TWO_FACTOR_CHANGED, None, trader.pk, {"on": True}),
        (Event.Kind.TWO_FACTOR_CHANGED, None, trader.pk, {"on": False}),
    ]


def test_a_wrong_code_changes_nothing_and_counts_towards_the_authenticators_throttle(trader):
    from registry.services import CodeRefused, two_factor_confirm, two_factor_start

    device = two_factor_start(user=trader)
    with pytest.raises(CodeRefused, match="That code is not right"):
        two_factor_confirm(user=trader, code=f"{(totp(device.bin_key) + 1) % 1_000_000:06d}")  # not this code
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1
    assert not LedgerEvent.objects.exists()


def test_a_member_with_two_factor_signs_in_with_the_code_and_is_let_through(client, trader, org):
    Organization.objects.filter(pk=org.pk).update(require_two_factor=True)
    device = TOTPDevice.objects.create(user=trader, name="phone", confirmed=True)
    response = client.post(reverse("login"), {"username": trader.email, "password": "demo",
                                              "otp_token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    assert client.get("/certificates/").status_code == 200


def test_only_a_manager_requires_two_factor(trader, viewer, org, outsider):
    for user in (trader, viewer):
        assert signed_in_as(user).post(reverse("members:two-factor"), {"required": "on"}).status_code == 403
    signed_in_as(outsider).post(reverse("members:two-factor"), {"required": "on"})  # their own organization
    assert not Organization.objects.get(pk=org.pk).require_two_factor
    assert not LedgerEvent.objects.filter(kind=LedgerEvent.Kind.ORGANIZATION_SETTINGS, organization=org).exists()


def test_stopping_the_requirement_lets_members_back_without_it(manager, trader, org):
    Organization.objects.filter(pk=org.pk).update(require_two_factor=True)
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client = signed_in_as(manager)
    session = client.session
    session["otp_device_id"] = TOTPDevice.objects.get(user=manager).persistent_id  # signed in with the code
    session.save()
    response = client.post(reverse("members:two-factor"), {"required": ""}, follow=True)
    assert "Two-factor sign-in is now each member" in response.content.decode()
    assert signed_in_as(trader).get("/certificates/").status_code == 200
    again = client.post(reverse("members:two-factor"), {"required": ""}, follow=True)
    assert "Two-factor sign-in is already optional for Prairie Wind Energy." in again.content.decode()
    assert User.objects.get(pk=manager.pk).is_active
