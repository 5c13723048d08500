"""The Active tab's Transfer and Retire buttons take the ticked boxes with the press, as a plain form
does (issue 26, item 3): with JavaScript off nothing needs "Update selection" first, and with it on
htmx still swaps the wizard in without a page load."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FLOWS = {"transfer": ("#transfer-button", "Transfer certificates"),
         "retire": ("#retire-button", "Retire certificates")}


def tick(page, batch):
    page.locator("#batches tr", has_text=batch.serial_number).locator("input[type=checkbox]").check()


def filter_fuel(page, fuel):
    page.select_option("select[name=fuel]", fuel)
    page.click("#filters button:has-text('Filter')")
    # With JavaScript the select's change already sent the filter, and the press sent it again: the
    # second answer replaces the rows and the selection bar, so tick only once it is in (a box ticked
    # before would be swapped out, unticked). htmx marks the form while its request runs; a
    # "networkidle" wait does not, since the page reached that state once already.
    expect(page.locator("#filters.htmx-request")).to_have_count(0)
    expect(page.locator("#batches tbody tr")).to_have_count(1)


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_press_takes_the_ticked_boxes_with_the_selection_of_other_pages(
        sign_in, trader, holdings, screenshot, flow, javascript):
    """Hydro chosen under one filter, wind ticked under another, then Transfer (or Retire) at once:
    the wizard starts with both, and not with solar, which was never ticked."""
    button, title = FLOWS[flow]
    page = sign_in(trader, java_script_enabled=javascript)
    filter_fuel(page, "hydro")
    tick(page, holdings["hydro"])
    if javascript:
        expect(page.locator("[data-selection-count]")).to_have_text("1")
    else:  # kept by the plain form's own button, as before
        page.click("button[name=action][value=page]")
    filter_fuel(page, "wind")
    tick(page, holdings["wind"])
    if javascript:
        page.evaluate("window.notReloaded = true")
    else:
        expect(page.locator("[data-selection-count]")).to_have_text("1")  # the ticked box not counted yet
    screenshot(page, "ticked")
    page.click(button)  # at once: no "Update selection", no wait for the counter

    page.wait_for_selector("[data-step=quantity]")
    assert page.url.endswith("/quantity/") and page.title().startswith(title)
    wizard = page.inner_text("#wizard")
    assert holdings["wind"].serial_number in wizard and holdings["hydro"].serial_number in wizard
    assert holdings["solar"].serial_number not in wizard
    expect(page.locator("#wizard input[type=number]")).to_have_count(2)
    if javascript:  # htmx's behaviour kept: step 1 swapped in, no page load
        assert page.evaluate("window.notReloaded") is True
    screenshot(page, "wizard")


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_untick_goes_with_the_press_too(sign_in, trader, holdings, flow, javascript):
    """A box shown ticked (chosen before) and unticked now is left out, as the page shows it."""
    button, _ = FLOWS[flow]
    page = sign_in(trader, java_script_enabled=javascript)
    for batch in holdings.values():
        tick(page, batch)
    if javascript:
        expect(page.locator("[data-selection-count]")).to_have_text("3")
    else:
        page.click("button[name=action][value=page]")
        expect(page.locator("[data-selection-count]")).to_have_text("3")
    page.locator("#batches tr", has_text=holdings["solar"].serial_number).locator("input[type=checkbox]").uncheck()
    page.click(button)
    page.wait_for_selector("[data-step=quantity]")
    wizard = page.inner_text("#wizard")
    assert holdings["solar"].serial_number not in wizard
    assert holdings["wind"].serial_number in wizard and holdings["hydro"].serial_number in wizard


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_press_with_nothing_ticked_says_what_to_do(sign_in, trader, holdings, flow, javascript):
    button, _ = FLOWS[flow]
    page = sign_in(trader, java_script_enabled=javascript)
    page.click(button)
    label = "Retire" if flow == "retire" else "Transfer"
    expect(page.locator(".messages")).to_have_text(
        f"Select one or more active batches on the Active tab, then press {label}.")
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text("Active")


def test_select_all_on_this_page_ticks_the_boxes_shown(sign_in, trader, holdings):
    """With JavaScript on, the boxes follow "Select all on this page" (and Clear selection), so a
    press of Transfer after it takes what the counter says."""
    page = sign_in(trader)
    page.click("button[name=action][value=add]")
    expect(page.locator("[data-selection-count]")).to_have_text("3")
    expect(page.locator("#batches input[type=checkbox]:checked")).to_have_count(3)
    page.click("button[name=action][value=clear]")
    expect(page.locator("[data-selection-count]")).to_have_text("0")
    expect(page.locator("#batches input[type=checkbox]:checked")).to_have_count(0)
    page.click("button[name=action][value=add]")
    expect(page.locator("#batches input[type=checkbox]:checked")).to_have_count(3)
    page.click("#transfer-button")
    page.wait_for_selector("[data-step=quantity]")
    expect(page.locator("#wizard input[type=number]")).to_have_count(3)
