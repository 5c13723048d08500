"""The API keys page (a manager creates a key, sees it once, revokes it) with JavaScript on and off
and at a phone's width; the API's documentation renders under the strict CSP."""

import pytest
from playwright.sync_api import expect

from api.models import ApiKey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_manager_creates_a_key_sees_it_once_and_revokes_it(sign_in, manager, org, screenshot, java_script):
    page = sign_in(manager, java_script_enabled=java_script)
    page.get_by_role("link", name="Organization", exact=True).click()
    page.locator("nav.tabs").get_by_role("link", name="API keys").click()
    expect(page.locator("h1")).to_have_text("API keys")
    screenshot(page, "api-keys-empty-1280")
    page.get_by_label("Name", exact=True).fill("Trading desk ERP")
    page.get_by_label("Scope").select_option("trade")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("Key", exact=True).input_value()
    assert ApiKey.objects.get_from_key(key).name == "Trading desk ERP"
    screenshot(page, "api-keys-created-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "api-keys-created-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name="API keys").click()
    expect(page.locator("body")).not_to_contain_text(key)
    page.get_by_role("link", name="Revoke Trading desk ERP").click()
    screenshot(page, "api-keys-revoke-1280")
    page.get_by_role("button", name="Revoke Trading desk ERP").click()
    expect(page.locator(".messages")).to_contain_text("is revoked")
    expect(page.locator("table.api-keys tr", has_text="Trading desk ERP")).to_contain_text("Revoked")
    screenshot(page, "api-keys-revoked-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "api-keys-revoked-390")


def test_the_api_docs_render_with_no_csp_violation(browser, live_server, screenshot):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.add_init_script("document.addEventListener('securitypolicyviolation', event => "
                         "console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI))")
    response = page.goto(f"{live_server.url}/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("API", timeout=15_000)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.locator(".opblock-summary-path", has_text="/api/v1/batches/").first.click()
    expect(page.locator(".parameters-container").first).to_contain_text("vintage_from")
    screenshot(page, "api-docs-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "api-docs-390")
    context.close()
    assert not [message for message in messages if "Content Security Policy" in message or "CSP" in message], messages
    assert not [message for message in messages if message.startswith("error")], messages


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_form_over_the_upload_limit_gets_a_page_that_says_so(sign_in, manager, org, settings, screenshot,
                                                                java_script):
    from axe_playwright_python.sync_playwright import Axe

    page = sign_in(manager, java_script_enabled=java_script)
    page.goto(page.url.replace("/certificates/", "/organization/api-keys/"))
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100  # the form below sends more (its CSRF token alone is 64 bytes)
    page.get_by_label("Name", exact=True).fill("Trading desk ERP")
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("h1")).to_have_text("Too much sent at once")
    expect(page.locator("main")).to_contain_text("more than the registry takes in one form (100 bytes, files aside)")
    assert not ApiKey.objects.exists()
    if java_script:  # axe-core runs in the page: not where scripts are off
        violations = [violation["id"] for violation in Axe().run(page).response["violations"]
                      if violation["impact"] in {"critical", "serious"}]
        assert violations == []
    screenshot(page, "too-large-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "too-large-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
