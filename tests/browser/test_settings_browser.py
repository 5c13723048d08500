"""The settings page in a browser: choosing a time zone there shows the pages' times in it, named."""

import datetime

import pytest
from playwright.sync_api import expect

from transfers.models import Transfer

from ..conftest import send

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WINTER = datetime.datetime(2026, 1, 15, 17, 5, tzinfo=datetime.UTC)


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_time_zone_chosen_on_the_settings_page_is_shown_on_the_pages(
        sign_in, trader, org, batch, counterparty, counterparty_trader, screenshot, live_server, java_script):
    transfer = send(batch, trader, org, counterparty)
    Transfer.objects.filter(pk=transfer.pk).update(submitted_at=WINTER)
    page = sign_in(trader, java_script_enabled=java_script)
    page.goto(f"{live_server.url}/certificates/?tab=pending")
    expect(page.locator("table.pending-outgoing")).to_contain_text("2026-01-15 11:05 CST")

    page.get_by_role("link", name=f"{trader.email} (your settings)").click()  # the header's
    page.wait_for_url(f"{live_server.url}/settings/")
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("America/Chicago")
    page.get_by_role("combobox", name="Time zone").select_option("America/New_York")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator(".messages")).to_contain_text("Your time zone is now America/New_York")
    expect(page.locator("#time-zone-now")).to_contain_text("EST")
    screenshot(page, "settings-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "settings-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing overflows a phone's width
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_server.url}/certificates/?tab=pending")
    expect(page.locator("table.pending-outgoing")).to_contain_text("2026-01-15 12:05 EST")
    page.goto(f"{live_server.url}/transfers/{transfer.pk}/")
    expect(page.locator("dl.facts")).to_contain_text("2026-01-15 12:05 EST")
    screenshot(page, "transfer-page")


def test_an_unknown_zone_posted_to_the_settings_page_is_refused(sign_in, trader, screenshot, live_server):
    page = sign_in(trader)
    page.goto(f"{live_server.url}/settings/")
    # A select offers only real zones: what a hand-made post (or a tampered page) sends is checked on the server.
    page.locator("select[name=time_zone] option").first.evaluate("option => option.value = 'Mars/Olympus_Mons'")
    page.get_by_role("combobox", name="Time zone").select_option("Mars/Olympus_Mons")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.locator("#time-zone-error")).to_have_text(
        "“Mars/Olympus_Mons” is not a time zone; choose one from the list, e.g. America/Chicago.")
    screenshot(page, "refused")
    trader.refresh_from_db()
    assert trader.time_zone == "America/Chicago"
