"""At a phone's width (390 px) the Active tab and the Accounts page show the columns that matter, each
row a card as the wizard's are; the Accounts page lists the open accounts first and the closed ones last
(issue 26, item 14). With JavaScript on and off; screenshots at 390 and 1280 px."""

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from accounts.services import account_close

from ..factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


def on_screen(locator, width):
    """Whether the element is shown whole within the screen's width (not scrolled away in its table)."""
    box = locator.bounding_box()
    return box is not None and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width


@pytest.fixture
def closed_account(org, manager):
    """An account emptied and closed, named to sort before every other."""
    archive = AccountFactory(organization=org, name="Aardvark archive")
    return account_close(user=manager, organization=org, account=archive)


@JAVASCRIPT
def test_the_active_tab_shows_what_matters_of_each_batch_on_a_phone(sign_in, trader, holdings, screenshot,
                                                                     javascript):
    page = sign_in(trader, java_script_enabled=javascript, viewport=DESKTOP)
    screenshot(page, "active-1280")
    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "active-390")
    wind = holdings["wind"]
    row = page.locator("#batches tbody tr", has_text=wind.serial_number)
    for shown in (wind.serial_number, "1,000", "Main active", wind.account.public_id, "M805 Prairie Ridge Wind",
                  "Wind", "MN", "01/2020"):
        cell = row.locator("td", has_text=shown).last
        assert on_screen(cell, PHONE["width"]), shown
    assert on_screen(row.locator("input[type=checkbox]"), PHONE["width"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Sorted on a phone too: by quantity, smallest first.
    page.locator("#batches thead a", has_text="Quantity").click()
    expect(page.locator("#batches thead a", has_text="Quantity")).to_have_text("Quantity ▲")
    expect(page.locator("#batches tbody td.num")).to_have_text(["200", "500", "1,000"])
    screenshot(page, "active-390-by-quantity")


@JAVASCRIPT
def test_the_accounts_page_shows_the_balances_on_a_phone_open_accounts_first(
        sign_in, manager, holdings, retirement_account, closed_account, screenshot, javascript):
    page = sign_in(manager, java_script_enabled=javascript, viewport=DESKTOP)
    page.get_by_role("link", name="Accounts").click()
    names = page.locator("table.accounts tbody tr td:nth-child(2)")
    expect(names).to_have_text(["Main active", "Trading", "Retirements", "Aardvark archive"])
    expect(page.locator("table.accounts tbody tr").last).to_contain_text("Closed")
    screenshot(page, "accounts-1280")

    page.set_viewport_size(PHONE)
    page.reload()
    screenshot(page, "accounts-390")
    row = page.locator("table.accounts tbody tr", has_text="Main active")
    for label, shown in (("Balance", "1,500 MWh"), ("Pending", "0 MWh"), ("Retired", "0 MWh")):
        cell = row.locator(f"td[data-label={label}]")
        expect(cell).to_have_text(shown)
        assert on_screen(cell, PHONE["width"]), label
    assert on_screen(row.get_by_role("link", name="Batches in Main active"), PHONE["width"])
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@JAVASCRIPT
def test_the_account_filter_offers_the_open_accounts_and_no_closed_one(
        sign_in, trader, holdings, closed_account, screenshot, javascript):
    page = sign_in(trader, java_script_enabled=javascript, viewport=PHONE)
    options = page.locator("select[name=account] option")
    expect(options).to_have_text(["All accounts", f"Main active ({holdings['wind'].account.public_id})",
                                  f"Trading ({holdings['hydro'].account.public_id})"])
    assert Account.objects.get(pk=closed_account.pk).status == Account.Status.CLOSED
    page.select_option("select[name=account]", label=f"Trading ({holdings['hydro'].account.public_id})")
    page.click("#filters button:has-text('Filter')")
    expect(page.locator("#batches tbody tr")).to_have_count(1)
    screenshot(page, "filtered-390")
