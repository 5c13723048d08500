"""A manager invites a new person from the Members page; the invitee opens the emailed link in a
browser of their own, chooses a name and password, signs in with the role given, and shows up in
the manager's member list. With JavaScript on and off, at 1280 and 390 px."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits_a_phone(page) -> bool:
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})
    return fits


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_an_invited_person_joins_with_the_role_given(
        sign_in, browser, manager, viewer, org, live_server, settings, screenshot, java_script):
    settings.SITE_URL = live_server.url  # the links in emails point at the portal under test
    mail.outbox.clear()
    page = sign_in(manager, java_script_enabled=java_script)
    page.get_by_role("link", name="Organization", exact=True).click()  # a manager's: the members page
    page.wait_for_url(f"{live_server.url}/organization/members/")
    expect(page.locator("table.members")).to_contain_text(viewer.email)
    page.get_by_label("Email address").fill("nia@prairiewind.example")
    page.get_by_label("Role", exact=True).select_option("trader")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".messages")).to_contain_text("Invitation sent to nia@prairiewind.example as a trader.")
    expect(page.locator("table.invitations")).to_contain_text("nia@prairiewind.example")
    screenshot(page, "members-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "members-390")
    assert fits_a_phone(page)

    [message] = mail.outbox
    link = re.search(r"(http://\S+/invitations/\S+/)", message.body).group(1)
    assert link.startswith(live_server.url)
    invitee = browser.new_context(java_script_enabled=java_script, viewport={"width": 1280, "height": 900})
    try:
        newcomer = invitee.new_page()
        newcomer.goto(link)
        expect(newcomer.get_by_role("heading", name="Join Prairie Wind Energy")).to_be_visible()
        newcomer.get_by_label("Your name").fill("Nia Newcomer")
        newcomer.get_by_label("New password", exact=True).fill("short")
        newcomer.get_by_label("New password confirmation").fill("short")
        newcomer.get_by_role("button", name="Create my account").click()
        expect(newcomer.locator(".invitation")).to_contain_text("This password is too short.")
        screenshot(newcomer, "invitation-refused")
        newcomer.get_by_label("New password", exact=True).fill("wind-farm-ledger-9")
        newcomer.get_by_label("New password confirmation").fill("wind-farm-ledger-9")
        newcomer.set_viewport_size({"width": 390, "height": 844})
        screenshot(newcomer, "invitation-390")
        assert newcomer.evaluate("document.documentElement.scrollWidth") <= 390
        newcomer.get_by_role("button", name="Create my account").click()
        newcomer.wait_for_url(f"{live_server.url}/login/")
        expect(newcomer.locator(".messages")).to_contain_text("Your account is ready.")
        newcomer.fill("input[name=username]", "nia@prairiewind.example")
        newcomer.fill("input[name=password]", "wind-farm-ledger-9")
        newcomer.click("button[type=submit]")
        newcomer.wait_for_url(f"{live_server.url}/certificates/")
        expect(newcomer.locator(".org")).to_contain_text("Prairie Wind Energy")
        expect(newcomer.locator(".org")).to_contain_text("Trader")
        expect(newcomer.get_by_role("link", name="Members")).to_have_count(0)  # a trader runs no members
    finally:
        invitee.close()

    page.reload()
    row = page.locator("table.members tr", has_text="nia@prairiewind.example")
    expect(row).to_contain_text("Nia Newcomer")
    expect(row.get_by_role("combobox")).to_have_value("trader")
    expect(page.locator("table.invitations")).to_have_count(0)
    screenshot(page, "members-after")
