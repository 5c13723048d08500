"""A forgotten password reset from the sign-in page by the emailed link; the settings page's name and
password change. With JavaScript on and off, and at a phone's width."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_forgotten_password_is_reset_from_the_sign_in_page(
        browser, trader, live_server, settings, screenshot, java_script):
    settings.SITE_URL = live_server.url
    mail.outbox.clear()
    context = browser.new_context(java_script_enabled=java_script, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/login/")
        page.get_by_role("link", name="Forgot your password?").click()
        page.get_by_label("Email").fill(trader.email)
        screenshot(page, "reset-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("button", name="Send the link").click()
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        link = re.search(r"(http://\S+/password/reset/\S+/)", mail.outbox[0].body).group(1)
        page.goto(link)
        page.get_by_label("New password", exact=True).fill("wind-farm-ledger-9")
        page.get_by_label("New password confirmation").fill("wind-farm-ledger-9")
        screenshot(page, "choose-390")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("button", name="Set my password").click()
        page.get_by_role("link", name="Sign in").click()
        page.fill("input[name=username]", trader.email)
        page.fill("input[name=password]", "wind-farm-ledger-9")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/certificates/")
    finally:
        context.close()


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_name_and_password_on_the_settings_page(sign_in, trader, live_server, screenshot, java_script):
    page = sign_in(trader, java_script_enabled=java_script)
    page.goto(f"{live_server.url}/settings/")
    page.get_by_label("Your name").fill("Tess Trader")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator(".messages")).to_contain_text("Your name is now Tess Trader.")
    screenshot(page, "settings-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "settings-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("link", name="Change your password").click()
    page.get_by_label("Current password").fill("demo")
    page.get_by_label("New password", exact=True).fill("wind-farm-ledger-9")
    page.get_by_label("New password confirmation").fill("wind-farm-ledger-9")
    screenshot(page, "change-390")
    page.get_by_role("button", name="Change my password").click()
    expect(page.locator(".messages")).to_contain_text("Your password has been changed.")
