"""A manager opens, renames and closes an account on the Accounts page, with JavaScript on and off,
and at a phone's width."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_manager_opens_renames_and_closes_an_account(
        sign_in, manager, account, batch, live_server, screenshot, java_script):
    page = sign_in(manager, java_script_enabled=java_script)
    page.get_by_role("link", name="Accounts").click()
    page.get_by_label("Name", exact=True).fill("Compliance 2026")
    page.get_by_label("Type").select_option("retirement")
    page.get_by_role("button", name="Open account").click()
    expect(page.locator(".messages")).to_contain_text("Retirement account Compliance 2026")
    row = page.locator("table.accounts tr", has_text="Compliance 2026")
    expect(row).to_contain_text("Retirement")
    expect(row).to_contain_text("Open")

    page.get_by_role("link", name="Rename Compliance 2026").click()
    page.get_by_label("New name").fill("Compliance 2027")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator(".messages")).to_contain_text("is renamed from Compliance 2026 to Compliance 2027.")

    page.get_by_role("link", name="Close Main active").click()
    page.get_by_role("button", name="Close Main active").click()
    expect(page.locator(".messages")).to_contain_text("holds 1,000 certificates; move them to another account")
    page.get_by_role("link", name="Close Compliance 2027").click()
    page.get_by_role("button", name="Close Compliance 2027").click()
    expect(page.locator(".messages")).to_contain_text("Account Compliance 2027")
    expect(page.locator("table.accounts tr", has_text="Compliance 2027")).to_contain_text("Closed")
    screenshot(page, "accounts-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "accounts-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_role("link", name="Batches in Main active").click()
    expect(page.locator("body")).to_contain_text("1 to 1000")
