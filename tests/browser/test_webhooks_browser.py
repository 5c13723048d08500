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
