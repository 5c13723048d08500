"""The header's one Organization link and the tabs of the organization's pages, with JavaScript on and
off, at 1280 and 390 px: each tab reached, marked current, the header compact, nothing scrolls sideways.
Screenshots (these and the pages showing a new key or signing secret once) into /work/shots/polish/
when that folder exists."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/work/shots/polish")
TABS = {"Members": "/organization/members/", "API keys": "/organization/api-keys/",
        "Webhooks": "/organization/webhooks/", "Activity": "/organization/activity/"}


@pytest.fixture
def shot(screenshot):
    def _shot(page, name):
        screenshot(page, name)
        if SHOTS.is_dir():
            page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    return _shot


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_moves_between_the_organizations_pages_by_its_tabs(sign_in, live_server, manager, settings,
                                                                     shot, javascript, width):
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1"]
    page = sign_in(manager, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    suffix = f"{width}-{'js' if javascript else 'nojs'}"
    page.click("header a:text-is('Organization')")
    page.wait_for_url(f"{live_server.url}{TABS['Members']}")
    for name, url in TABS.items():
        page.click(f"nav.tabs a:text-is('{name}')")
        page.wait_for_url(f"{live_server.url}{url}")
        expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text(name)
        expect(page.locator("header a[aria-current=page]")).to_have_text("Organization")
        assert page.locator("header").bounding_box()["height"] <= 100
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        shot(page, f"tabs-{name.lower().replace(' ', '-')}-{suffix}")

    page.click("nav.tabs a:text-is('API keys')")
    page.fill("input[name=name]", "Trading desk ERP")
    page.click("button:text-is('Create key')")
    expect(page.locator("#new-key")).to_be_visible()
    shot(page, f"key-created-{suffix}")
    page.reload()
    expect(page.locator("#new-key")).to_have_count(0)

    page.click("nav.tabs a:text-is('Webhooks')")
    page.fill("input[name=url]", "http://127.0.0.1:9/hook")
    page.check("input[value='transfer.pending']")
    page.click("button:text-is('Register endpoint')")
    expect(page.locator("#signing-secret")).to_be_visible()
    shot(page, f"webhook-created-{suffix}")
    page.reload()
    expect(page.locator("#signing-secret")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("was shown once")
