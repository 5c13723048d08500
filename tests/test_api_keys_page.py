"""The API keys page: managers create (shown once), list and revoke their organization's keys."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from api.models import ApiKey
from registry.models import Membership

from .factories import api_key_for, member

KEYS = reverse("api-keys:list")


def revoke_url(api_key):
    return reverse("api-keys:revoke", args=[api_key.prefix])


def test_a_manager_creates_a_key_and_sees_it_once(signed_in, org, manager):
    client = signed_in(manager)
    response = client.post(KEYS, {"name": "Trading desk ERP", "scope": "trade", "expires_on": ""})
    assert response.status_code == 302 and response["Location"] == KEYS
    api_key = ApiKey.objects.get()
    assert (api_key.name, api_key.scope, api_key.created_by, api_key.organization) == (
        "Trading desk ERP", "trade", manager, org)
    shown = client.get(KEYS)
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    key = shown.context["created"]["key"]
    assert ApiKey.objects.get_from_key(key) == api_key and key in shown.content.decode()

    reloaded = client.get(KEYS)
    listing = reloaded.content.decode()
    assert "Trading desk ERP" in listing and api_key.prefix in listing and key not in listing
    assert reloaded.context["created"] is None and "shown once" in listing
    assert ApiKey.objects.count() == 1


def test_htmx_creates_a_key_and_is_sent_to_the_page_that_shows_it_once(signed_in, manager):
    client = signed_in(manager)
    response = client.post(KEYS, {"name": "ERP", "scope": "read"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Redirect"] == KEYS and not response.content
    key = client.get(KEYS).context["created"]["key"]
    assert ApiKey.objects.get_from_key(key) == ApiKey.objects.get()
    assert key not in client.get(KEYS).content.decode() and ApiKey.objects.count() == 1


def test_the_new_key_calls_the_api(signed_in, org, manager):
    response = signed_in(manager).post(KEYS, {"name": "ERP", "scope": "read"}, follow=True)
    key = response.context["created"]["key"]
    api = signed_in(manager)
    api.logout()
    assert api.get("/api/v1/organization/", headers={"Authorization": f"Api-Key {key}"}).json()["name"] == org.name


def test_an_expiry_is_the_end_of_the_chosen_day(signed_in, org, manager):
    day = timezone.localdate() + datetime.timedelta(days=30)
    signed_in(manager).post(KEYS, {"name": "ERP", "scope": "read", "expires_on": day.isoformat()})
    expiry = timezone.localtime(ApiKey.objects.get().expiry_date)
    assert expiry.date() == day + datetime.timedelta(days=1) and expiry.time() == datetime.time.min


def test_a_past_expiry_or_no_name_is_refused_by_the_field(signed_in, manager):
    response = signed_in(manager).post(KEYS, {"name": "", "scope": "read", "expires_on": "2001-01-01"})
    assert response.context["form"].errors == {"name": ["Enter a name for the key."],
                                               "expires_on": ["Choose today or a later day, or leave it empty."]}
    assert not ApiKey.objects.exists()


def test_a_scope_beyond_the_creators_role_is_not_offered(org, manager):
    from api.forms import ApiKeyForm

    assert [value for value, _ in ApiKeyForm(role=Membership.Role.VIEWER).fields["scope"].choices] == ["read"]
    form = ApiKeyForm({"name": "x", "scope": "trade"}, role=Membership.Role.VIEWER)
    assert not form.is_valid() and "scope" in form.errors


def test_the_list_shows_who_created_and_revoked_each_key(signed_in, org, manager, trader):
    active, _ = api_key_for(trader, org, "trade", name="Desk")
    revoked, _ = api_key_for(manager, org, "read", name="Old ERP")
    client = signed_in(manager)
    client.post(revoke_url(revoked))
    content = client.get(KEYS).content.decode()
    for text in ["Desk", "Old ERP", active.prefix, revoked.prefix, trader.get_full_name(), "Revoked",
                 f"by {manager.get_full_name()}", "Never", "Not yet"]:
        assert text in content, text


def test_revoking_asks_first_then_revokes(signed_in, org, manager):
    api_key, _ = api_key_for(manager, org, "read", name="ERP")
    client = signed_in(manager)
    page = client.get(revoke_url(api_key))
    assert "Revoke the key “ERP”?" in page.content.decode()
    api_key.refresh_from_db()
    assert not api_key.revoked
    assert client.post(revoke_url(api_key)).url == KEYS
    api_key.refresh_from_db()
    assert api_key.revoked and api_key.revoked_by == manager and api_key.revoked_at is not None


@pytest.mark.parametrize("role", [Membership.Role.TRADER, Membership.Role.VIEWER])
def test_traders_and_viewers_get_403(signed_in, org, manager, role):
    user = member(org, role)
    api_key, _ = api_key_for(manager, org, "read")
    client = signed_in(user)
    assert client.get(KEYS).status_code == 403
    assert client.post(KEYS, {"name": "x", "scope": "read"}).status_code == 403
    assert client.post(revoke_url(api_key)).status_code == 403
    assert not ApiKey.objects.filter(name="x").exists() and not ApiKey.objects.filter(revoked=True).exists()


def test_an_outsider_cannot_see_or_revoke_our_keys(signed_in, org, manager, outsider):
    api_key, _ = api_key_for(manager, org, "read", name="Our ERP")
    client = signed_in(outsider)
    assert "Our ERP" not in client.get(KEYS).content.decode()
    assert client.get(revoke_url(api_key)).status_code == 404
    assert client.post(revoke_url(api_key)).status_code == 404
    api_key.refresh_from_db()
    assert not api_key.revoked


def test_signed_out_goes_to_sign_in(client):
    assert client.get(KEYS).url.startswith(reverse("login"))


def test_the_menu_links_the_page_for_managers_only(signed_in, org, manager, viewer):
    assert f'href="{KEYS}"' in signed_in(manager).get(reverse("members:list")).content.decode()
    assert f'href="{KEYS}"' not in signed_in(viewer).get(reverse("dashboard:certificates")).content.decode()
