"""The webhooks page in a browser, with and without JavaScript, wide and narrow: a manager registers
an endpoint (a real receiver on 127.0.0.1), copies its secret, sees the deliveries of a transfer and
resends one."""

from pathlib import Path

import pytest

from tests.conftest import send
from tests.webhook_receiver import Receiver
from webhooks.models import WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path("/work/shots/webhooks")


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1"]
    running = Receiver()
    yield running
    running.stop()


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", [1280, 390])
def test_register_an_endpoint_see_its_deliveries_and_resend_one(sign_in, live_server, receiver, manager, trader, org,
                                                                 batch, counterparty, screenshot, javascript, width):
    def shot(name):
        if SHOTS.parent.exists():
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}-{width}-{'js' if javascript else 'nojs'}.png"), full_page=True)
        screenshot(page, name)

    page = sign_in(manager, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.click("header a:text-is('Organization')")
    page.click("nav.tabs a:text-is('Webhooks')")
    page.wait_for_url(f"{live_server.url}/organization/webhooks/")
    shot("list-empty")
    page.fill("input[name=url]", "https://10.0.0.5/registry")
    page.check("input[value='transfer.pending']")
    page.click("button:has-text('Register endpoint')")
    page.wait_for_selector("#url-error")
    assert "private or local address" in page.locator("#url-error").inner_text()
    shot("refused")

    page.fill("input[name=url]", receiver.url)
    page.check("input[value='transfer.pending']")
    page.check("input[value='transfer.accepted']")
    page.click("button:has-text('Register endpoint')")
    page.wait_for_selector("#signing-secret")
    endpoint = WebhookEndpoint.objects.get()
    assert page.locator("#signing-secret").inner_text() == endpoint.secret
    shot("secret")

    send(batch, trader, org, counterparty)  # owed, and sent to the receiver by the (eager) worker
    assert len(receiver.requests) == 1
    page.click("a:has-text('Go to the endpoint')")
    page.wait_for_url(f"{live_server.url}/organization/webhooks/{endpoint.pk}/")
    assert "Delivered" in page.locator("#deliveries tbody").inner_text()
    assert endpoint.secret not in page.content()
    page.click("#deliveries button:has-text('Resend')")
    page.wait_for_selector("text=will be sent again now")
    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.get().attempts == 2
    shot("endpoint")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.click("#deliveries a:has-text('Refresh')")  # htmx swaps the deliveries in; a plain link reloads
    page.wait_for_selector("#deliveries tbody tr")
    assert "Delivered" in page.locator("#deliveries tbody").inner_text()
    page.click("a:has-text('← Webhooks')")
    page.wait_for_url(f"{live_server.url}/organization/webhooks/")
    assert receiver.url in page.locator("table.webhook-endpoints").inner_text()
    shot("list")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_states_an_endpoint_can_be_in_are_shown_plainly_and_accessibly(
        sign_in, live_server, settings, manager, org, screenshot, javascript, width):
    """In development, the help for a local receiver; an endpoint disabled by its receiver's 410, one
    whose secret cannot be read after a SECRET_KEY change, one paused by a 429, one with a secret
    made before Standard Webhooks, and the secret page during a replaced secret's grace period."""
    import datetime

    from axe_playwright_python.sync_playwright import Axe
    from django.utils import timezone

    from tests.factories import WebhookEndpointFactory
    from webhooks.services import ENDPOINT_GONE, webhook_endpoint_rotate_secret

    settings.DEBUG, settings.WEBHOOKS_ALLOW_HTTP_HOSTS = True, []
    now = timezone.now()
    gone = WebhookEndpointFactory(organization=org, created_by=manager, url="https://gone.example.com/hook",
                                  is_active=False, disabled_reason=ENDPOINT_GONE, disabled_at=now)
    paused = WebhookEndpointFactory(organization=org, created_by=manager, url="https://busy.example.com/hook",
                                    paused_until=now + datetime.timedelta(minutes=2))
    legacy = WebhookEndpointFactory(organization=org, created_by=manager, url="https://old.example.com/hook",
                                    secret="whsec_" + "a-b_" * 10 + "abc")
    lost = WebhookEndpointFactory(organization=org, created_by=manager, url="https://lost.example.com/hook")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "a-new-" + settings.SECRET_KEY, []
    WebhookEndpoint.objects.filter(pk__in=[gone.pk, paused.pk, legacy.pk]).update(secret=lost.secret)  # resealed
    WebhookEndpoint.objects.filter(pk=legacy.pk).update(secret="whsec_" + "a-b_" * 10 + "abc")

    axe, found = Axe(), {}
    page = sign_in(manager, java_script_enabled=javascript, viewport={"width": width, "height": 900})

    def look(path, name, expected):
        page.goto(live_server.url + path)
        assert expected in page.inner_text("main"), name
        screenshot(page, name)
        if SHOTS.parent.exists():
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / f"{name}-{width}-{'js' if javascript else 'nojs'}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        if javascript:  # axe-core runs in the page
            violations = [v["id"] for v in axe.run(page).response["violations"]
                          if v["impact"] in ("critical", "serious")]
            if violations:
                found[name] = violations

    look("/organization/webhooks/", "states-list", "WEBHOOKS_ALLOW_HTTP_HOSTS=127.0.0.1 make run")
    look(f"/organization/webhooks/{gone.pk}/", "state-gone", "The registry disabled this endpoint.")
    look(f"/organization/webhooks/{lost.pk}/", "state-lost", "signing secret can no longer be read")
    look(f"/organization/webhooks/{paused.pk}/", "state-paused", "asked the registry to slow down")
    look(f"/organization/webhooks/{legacy.pk}/", "state-legacy", "Replace this endpoint's signing secret.")
    webhook_endpoint_rotate_secret(endpoint=legacy, user=manager)
    look(f"/organization/webhooks/{legacy.pk}/", "state-grace", "the secret it replaced also signs until")
    assert found == {}
