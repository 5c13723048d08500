"""The managers' webhooks page: register an endpoint (its secret shown once), disable, enable, replace
the secret, delete; each endpoint's recent deliveries, one resent. Traders and viewers are refused
(403); another organization's endpoint or delivery is not found (404)."""

import html
import re
from pathlib import Path

import pytest

from registry.models import Membership
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from webhooks.signing import RECEIVER_SNIPPET

from .conftest import signed_in_as
from .factories import WebhookEndpointFactory, member

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/organization/webhooks/"
SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


@pytest.fixture(autouse=True)
def webhook_settings(settings):
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1"]


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def hook(org, manager):
    return WebhookEndpointFactory(organization=org, created_by=manager, url="https://hooks.example.com/registry")


@pytest.fixture
def delivery(hook):
    return WebhookDelivery.objects.create(endpoint=hook, event_type=EventType.TRANSFER_PENDING, payload={"id": "x"},
                                          status=WebhookDelivery.Status.FAILED, attempts=12, next_attempt_at=None,
                                          last_response_code=500)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_manager_registers_an_endpoint_and_sees_its_secret_once(org, manager, htmx):
    client = signed_in_as(manager)
    response = client.post(PAGE, {"url": "http://127.0.0.1:9000/hook",
                                  "event_types": ["transfer.pending", "upload.finished"]},
                           headers={"HX-Request": "true"} if htmx else {})
    endpoint = WebhookEndpoint.objects.get()
    secret_page = f"{PAGE}{endpoint.pk}/secret/"
    assert response.status_code == (200 if htmx else 302) and not SECRET.search(text(response))
    assert (response["HX-Redirect"] if htmx else response["Location"]) == secret_page
    assert (endpoint.organization, endpoint.created_by, endpoint.url) == (org, manager, "http://127.0.0.1:9000/hook")
    assert endpoint.event_types == ["transfer.pending", "upload.finished"] and endpoint.is_active

    shown = client.get(secret_page)
    assert shown.status_code == 200 and "no-store" in shown["Cache-Control"]
    assert SECRET.findall(text(shown)) == [endpoint.secret] and "Endpoint registered" in text(shown)

    for page in (secret_page, PAGE, f"{PAGE}{endpoint.pk}/"):  # a reload of the secret's page included
        shown = client.get(page)
        assert shown.status_code == 200 and endpoint.url in text(shown)
        assert endpoint.secret not in text(shown) and not SECRET.search(text(shown))
    assert "was shown once" in text(client.get(secret_page)) and WebhookEndpoint.objects.count() == 1


def test_a_secret_kept_for_one_endpoint_is_not_shown_on_anothers_page(org, manager, hook):
    client = signed_in_as(manager)
    client.post(f"{PAGE}{hook.pk}/rotate-secret/")
    other = WebhookEndpointFactory(organization=org, created_by=manager, url="https://other.example.com/hook")
    hook.refresh_from_db()
    assert not SECRET.search(text(client.get(f"{PAGE}{other.pk}/secret/")))
    assert not SECRET.search(text(client.get(f"{PAGE}{hook.pk}/secret/")))  # taken out by the first look


@pytest.mark.parametrize(("fields", "message"), [
    ({"url": "http://hooks.example.com/registry", "event_types": ["transfer.pending"]}, "Use an https:// URL"),
    ({"url": "https://10.0.0.5/registry", "event_types": ["transfer.pending"]},
     "10.0.0.5 is a private or local address (10.0.0.5); the registry only sends to addresses on the public internet."),
    ({"url": "http://127.0.0.1:9000/hook"}, "Choose at least one event."),
    ({"url": "http://127.0.0.1:9000/hook", "event_types": ["transfer.everything"]}, "Select a valid choice."),
])
def test_a_refused_registration_says_why_and_creates_nothing(manager, fields, message):
    response = signed_in_as(manager).post(PAGE, fields)
    assert response.status_code == 400 and message in text(response)
    assert not WebhookEndpoint.objects.exists() and not SECRET.search(text(response))


def test_an_organization_has_at_most_the_configured_number_of_endpoints(settings, org, manager, hook):
    settings.WEBHOOKS_MAX_ENDPOINTS = 1
    response = signed_in_as(manager).post(PAGE, {"url": "http://127.0.0.1:9000/hook",
                                                 "event_types": ["transfer.pending"]})
    assert "already has 1 endpoints, the most it may have; delete one first." in text(response)
    assert WebhookEndpoint.objects.count() == 1


def test_disable_enable_and_replace_the_secret(manager, hook):
    client = signed_in_as(manager)
    client.post(f"{PAGE}{hook.pk}/disable/")
    hook.refresh_from_db()
    assert not hook.is_active
    assert "is disabled" in text(client.get(f"{PAGE}{hook.pk}/"))
    client.post(f"{PAGE}{hook.pk}/enable/")
    hook.refresh_from_db()
    assert hook.is_active

    old = hook.secret
    response = client.post(f"{PAGE}{hook.pk}/rotate-secret/")
    assert response.status_code == 302 and response["Location"] == f"{PAGE}{hook.pk}/secret/"
    hook.refresh_from_db()
    shown = client.get(response["Location"])
    assert hook.secret != old and SECRET.findall(text(shown)) == [hook.secret] and "replaced" in text(shown)
    assert hook.secret_rotated_at is not None and "no-store" in shown["Cache-Control"]
    client.get(response["Location"])  # a reload rotates nothing again
    rotated = hook.secret
    hook.refresh_from_db()
    assert hook.secret == rotated


def test_after_a_secret_key_change_the_pages_show_the_endpoint_needs_a_new_secret_and_a_manager_replaces_it(
        settings, monkeypatch, org, manager, hook, delivery):
    from webhooks import services

    monkeypatch.setattr(services, "_deliveries_nudge", lambda: None)
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-" + settings.SECRET_KEY, []
    client = signed_in_as(manager)
    listing = client.get(PAGE)
    assert listing.status_code == 200 and "Needs a new secret" in text(listing)
    detail = client.get(f"{PAGE}{hook.pk}/")
    assert detail.status_code == 200 and "signing secret can no longer be read" in text(detail)
    assert str(delivery.event_id) in text(detail)

    response = client.post(f"{PAGE}{hook.pk}/rotate-secret/")
    assert response.status_code == 302 and response["Location"] == f"{PAGE}{hook.pk}/secret/"
    hook.refresh_from_db()
    assert hook.secret.startswith("whsec_") and SECRET.findall(text(client.get(response["Location"]))) == [hook.secret]
    assert "Needs a new secret" not in text(client.get(PAGE))
    assert "can no longer be read" not in text(client.get(f"{PAGE}{hook.pk}/"))


def test_after_a_replacement_the_pages_say_until_when_the_old_secret_also_signs(settings, manager, hook):
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 24
    client = signed_in_as(manager)
    shown = text(client.get(client.post(f"{PAGE}{hook.pk}/rotate-secret/")["Location"]))
    assert "each delivery is signed with both this secret and the one it replaced" in shown
    assert "the secret it replaced also signs until" in text(client.get(f"{PAGE}{hook.pk}/"))
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 0  # (a rotation now drops the old one at once)
    shown = text(client.get(client.post(f"{PAGE}{hook.pk}/rotate-secret/")["Location"]))
    assert "Deliveries from now on are signed with this one." in shown
    assert "also signs until" not in text(client.get(f"{PAGE}{hook.pk}/"))


def test_an_endpoint_whose_secret_predates_standard_webhooks_is_asked_to_replace_it(manager, hook):
    WebhookEndpoint.objects.filter(pk=hook.pk).update(secret="whsec_" + "a-b_" * 10 + "abc")
    client = signed_in_as(manager)
    assert "Replace this endpoint's signing secret." in text(client.get(f"{PAGE}{hook.pk}/"))
    client.post(f"{PAGE}{hook.pk}/rotate-secret/")
    assert "Replace this endpoint's signing secret." not in text(client.get(f"{PAGE}{hook.pk}/"))


def test_an_endpoint_disabled_by_its_receivers_410_shows_why_and_a_manager_enables_it_again(monkeypatch, manager,
                                                                                            hook):
    from webhooks import services
    from webhooks.services import ENDPOINT_GONE

    monkeypatch.setattr(services, "_deliveries_nudge", lambda: None)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(is_active=False, disabled_reason=ENDPOINT_GONE,
                                                      disabled_at=hook.created_at)
    client = signed_in_as(manager)
    assert "Disabled (it answered 410 Gone)" in re.sub(r"<[^>]+>", "", text(client.get(PAGE)))
    detail = text(client.get(f"{PAGE}{hook.pk}/"))
    assert "The registry disabled this endpoint." in detail and ENDPOINT_GONE in detail
    assert f'action="{PAGE}{hook.pk}/enable/"' in detail

    client.post(f"{PAGE}{hook.pk}/enable/")
    hook.refresh_from_db()
    assert hook.is_active and hook.disabled_reason == ""
    assert "The registry disabled this endpoint." not in text(client.get(f"{PAGE}{hook.pk}/"))


def test_delete_asks_first_then_deletes_the_endpoint_and_its_deliveries(manager, hook, delivery):
    client = signed_in_as(manager)
    confirm = client.get(f"{PAGE}{hook.pk}/delete/")
    assert confirm.status_code == 200 and "Delete this endpoint?" in text(confirm)
    assert WebhookEndpoint.objects.exists()
    assert client.post(f"{PAGE}{hook.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()


def test_the_endpoint_page_lists_its_deliveries_and_resends_one_now(monkeypatch, manager, hook, delivery):
    from webhooks import services

    monkeypatch.setattr(services, "_deliveries_nudge", lambda: None)
    client = signed_in_as(manager)
    page = text(client.get(f"{PAGE}{hook.pk}/"))
    assert str(delivery.event_id) in page and "transfer.pending" in page and "Failed" in page and "500" in page
    partial = client.get(f"{PAGE}{hook.pk}/", headers={"HX-Request": "true"})
    assert text(partial).lstrip().startswith('<section id="deliveries"') and str(delivery.event_id) in text(partial)

    response = client.post(f"{PAGE}deliveries/{delivery.pk}/resend/", follow=True)
    assert f"Event {delivery.event_id} will be sent again now" in text(response)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING and delivery.next_attempt_at is not None


def test_a_delivery_of_a_disabled_endpoint_is_not_resent(manager, hook, delivery):
    hook.is_active = False
    hook.save(update_fields=["is_active"])
    response = signed_in_as(manager).post(f"{PAGE}deliveries/{delivery.pk}/resend/", follow=True)
    assert "This endpoint is disabled: enable it first" in text(response)
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED


@pytest.mark.parametrize("role", [Membership.Role.TRADER, Membership.Role.VIEWER])
def test_traders_and_viewers_are_refused(org, hook, delivery, role):
    client = signed_in_as(member(org, role))
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}{hook.pk}/").status_code == 403
    assert client.get(f"{PAGE}{hook.pk}/secret/").status_code == 403
    assert client.post(PAGE, {"url": "http://127.0.0.1:9000/hook", "event_types": ["transfer.pending"]}
                       ).status_code == 403
    for action in ("disable", "rotate-secret", "delete"):
        assert client.post(f"{PAGE}{hook.pk}/{action}/").status_code == 403
    assert client.post(f"{PAGE}deliveries/{delivery.pk}/resend/").status_code == 403
    hook.refresh_from_db()
    delivery.refresh_from_db()
    assert hook.is_active and delivery.status == WebhookDelivery.Status.FAILED
    assert WebhookEndpoint.objects.count() == 1


def test_another_organizations_endpoint_and_delivery_are_not_found(outsider, hook, delivery):
    client = signed_in_as(outsider)
    assert client.get(PAGE).status_code == 200 and hook.url not in text(client.get(PAGE))
    assert client.get(f"{PAGE}{hook.pk}/").status_code == 404
    assert client.get(f"{PAGE}{hook.pk}/secret/").status_code == 404
    for action in ("disable", "rotate-secret", "delete"):
        assert client.post(f"{PAGE}{hook.pk}/{action}/").status_code == 404
    assert client.post(f"{PAGE}deliveries/{delivery.pk}/resend/").status_code == 404
    secret = hook.secret
    hook.refresh_from_db()
    delivery.refresh_from_db()
    assert hook.is_active and hook.secret == secret and delivery.status == WebhookDelivery.Status.FAILED


def test_managers_find_the_page_next_to_members_and_others_do_not(org, manager, viewer):
    assert f'href="{PAGE}"' in signed_in_as(manager).get("/organization/members/").content.decode()
    assert f'href="{PAGE}"' not in signed_in_as(viewer).get("/accounts/").content.decode()


def test_in_development_the_page_says_how_to_allow_a_receiver_on_this_machine(settings, manager):
    def shown() -> str:
        return " ".join(re.sub(r"<[^>]+>", "", text(client.get(PAGE))).split())

    client = signed_in_as(manager)
    settings.DEBUG, settings.WEBHOOKS_ALLOW_HTTP_HOSTS = True, []
    page = shown()
    assert "To try a receiver on this machine, start the registry with its host listed: " \
           "WEBHOOKS_ALLOW_HTTP_HOSTS=127.0.0.1 make run then register your receiver's URL" in page
    assert "Never set it in production." in page

    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1", "localhost"]
    page = shown()
    assert "These hosts may use http and local addresses (WEBHOOKS_ALLOW_HTTP_HOSTS): 127.0.0.1, localhost." in page
    assert "make run" not in page

    settings.DEBUG = False
    page = shown()
    assert "WEBHOOKS_ALLOW_HTTP_HOSTS" not in page and "These hosts may use http" not in page


def test_the_page_and_the_readme_show_the_snippet_the_tests_run(manager):
    assert RECEIVER_SNIPPET in text(signed_in_as(manager).get(PAGE))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert RECEIVER_SNIPPET in readme


def test_the_api_documentation_shows_the_snippet_and_the_headers(client):
    response = client.get("/api/schema/", headers={"Accept": "application/vnd.oai.openapi+json"})
    description = response.json()["info"]["description"]
    assert RECEIVER_SNIPPET in description and f"```python\n{RECEIVER_SNIPPET}```" in description
    assert all(header in description for header in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    assert "Standard Webhooks" in description and "Registry-Signature" not in description


@pytest.mark.parametrize("secret_key_changed", [False, True])
def test_staff_read_endpoints_and_deliveries_in_the_admin_without_the_secret(settings, client, staff, hook, delivery,
                                                                             secret_key_changed):
    if secret_key_changed:
        settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-" + settings.SECRET_KEY, []
    staff.is_superuser = True
    staff.save(update_fields=["is_superuser"])
    client.force_login(staff)
    for url in ("/admin/webhooks/webhookendpoint/", f"/admin/webhooks/webhookendpoint/{hook.pk}/change/",
                "/admin/webhooks/webhookdelivery/", f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert hook.secret not in response.content.decode()
    assert str(delivery.event_id) in client.get("/admin/webhooks/webhookdelivery/").content.decode()
    assert client.post(f"/admin/webhooks/webhookendpoint/{hook.pk}/delete/", {"post": "yes"}).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=hook.pk).exists()
