import csv
import io

import pytest
from playwright.sync_api import expect

from dashboard.views import PAGE_SIZES
from transfers.views import TRANSACTIONS_PER_PAGE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_select_transfer_and_download(sign_in, trader, holdings, screenshot, live_server):
    page = sign_in(trader)
    expect(page.locator("#totals")).to_have_text("3 batches · 1,700 certificates")  # asked for after the rows
    page.evaluate("window.notReloaded = true")

    page.fill("input[name=vintage_from]", "01/2020")
    page.fill("input[name=vintage_to]", "12/2020")
    page.press("input[name=vintage_to]", "Enter")
    expect(page.locator("#totals")).to_have_text("2 batches · 1,500 certificates")
    assert page.evaluate("window.notReloaded") is True  # swapped in by htmx, no page load
    assert "vintage_from=01%2F2020" in page.url  # the filter lives in the URL
    rows = page.locator("#batches tbody tr")
    assert rows.count() == 2
    assert holdings["hydro"].serial_number not in page.inner_text("#batches")
    screenshot(page, "filtered")

    expect(page.locator("[data-selection-count]")).to_have_text("0")
    boxes = page.locator("#batches input[type=checkbox]")
    boxes.nth(0).check()
    page.wait_for_selector("[data-selection-count='1']")
    boxes.nth(1).check()
    page.wait_for_selector("[data-selection-count='2']")

    with page.expect_download() as download_info:
        page.click("text=Download")
    text = open(download_info.value.path(), encoding="utf-8").read()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "Serial Number" and len(rows) == 3
    assert {row[0] for row in rows[1:]} == {holdings["wind"].serial_number, holdings["solar"].serial_number}

    page.click("#transfer-button")
    page.wait_for_selector("[data-step=quantity]")
    assert "/transfers/new/" in page.url and "quantity" in page.url
    assert page.locator("#wizard input[type=number]").count() == 2
    screenshot(page, "wizard-step-1")


@pytest.mark.parametrize("java_script", [True, False])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_account_filter_puts_the_account_s_public_id_in_the_address(sign_in, trader, holdings, second_account,
                                                                        screenshot, java_script, width):
    page = sign_in(trader, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    page.select_option("select[name=account]", label=str(second_account))
    if not java_script:
        page.click("#filters button[type=submit]")
        expect(page.locator(".pagination span")).to_have_text("Page 1")  # counted with the totals
        screenshot(page, "account-before-totals")
        page.click("#totals a:has-text('Show the totals')")  # the page with its totals
        expect(page.locator(".pagination span")).to_have_text("Page 1 of 1")
    expect(page.locator("#totals")).to_have_text("1 batch · 200 certificates")
    assert f"account={second_account.public_id}" in page.url  # the id the API's filter takes too
    assert page.locator("#batches tbody tr").count() == 1
    screenshot(page, "account")


PER_PAGE = PAGE_SIZES[0]  # the smallest page: the default
BATCH_TABS = [("active", "Active"), ("exported", "Exported")]


def issue_order(count):
    """1..count in an order that is neither ascending nor descending (7 and 27 share no factor), so
    the default sort (newest vintage first) differs from either way of sorting by quantity."""
    return [(n * 7) % count + 1 for n in range(count)]


@pytest.fixture
def every_tab(org, trader, staff, issue, account, second_account, retirement_account, counterparty,
              tracking_system):
    """Two pages of batches on each of Active and Exported, each tab's quantities in its own
    thousand (so a row tells which tab it came from), a retirement, a pending transfer, and two pages
    of transactions."""
    from transfers.services import Destination, TransferLine, export_confirm, transfer_create

    from ..conftest import retire

    count = PER_PAGE + 2
    batches = {tab: [issue(base + n) for n in issue_order(count)]
               for (tab, _), base in zip(BATCH_TABS, (1000, 3000), strict=True)}

    def whole(tab):
        return [TransferLine(batch.pk, batch.quantity) for batch in batches[tab]]

    retired = issue(2000)
    retirement = retire(organization=org, user=trader, lines=[TransferLine(retired.pk, 2000)],
                        account=retirement_account).retirement
    export = transfer_create(organization=org, user=trader, lines=whole("exported"),
                             destination=Destination.export(tracking_system, "Cascade Utility"))
    export_confirm(transfer=export, user=staff)
    pending_batch = issue(4000)
    pending = transfer_create(organization=org, user=trader, lines=[TransferLine(pending_batch.pk, 4000)],
                              destination=Destination.to_organization(counterparty))
    # One active batch moved whole between two accounts, back and forth: more transactions, the same rows.
    moving = batches["active"][0]
    for n in range(TRANSACTIONS_PER_PAGE + 1 - 3):
        moved = transfer_create(organization=org, user=trader, lines=[TransferLine(moving.pk, moving.quantity)],
                                destination=Destination.internal(second_account if n % 2 == 0 else account))
        moving = moved.items.get().batch
    return {"quantities": {tab: sorted(batch.quantity for batch in tab_batches)
                           for tab, tab_batches in batches.items()},
            "pending": pending, "retirement": retirement}


def expect_tab(page, label):
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text(label)


def expect_rows(page, quantities, *, page_number, pages, checkboxes):
    expect(page.locator("#batches tbody td.num")).to_have_text([f"{quantity:,}" for quantity in quantities])
    expect(page.locator(".pagination span")).to_have_text(f"Page {page_number} of {pages}")
    expect(page.locator("#batches input[type=checkbox]")).to_have_count(len(quantities) if checkboxes else 0)


def page_and_sort_every_tab(page, every_tab, screenshot, label, *, htmx):
    """Each batch tab: sort by quantity, page, filter, page again, sort the other way, page; then the
    Pending and Transactions tabs. The tab stays highlighted and its own rows show throughout."""
    for tab, tab_label in BATCH_TABS:
        ascending = every_tab["quantities"][tab]
        checkboxes = tab == "active"
        page.click(f"nav.tabs a:has-text('{tab_label}')")
        expect_tab(page, tab_label)
        if htmx:
            page.evaluate("window.notReloaded = true")
        else:  # the totals and the number of pages come with the page the link shows, and stay while it pages
            page.click("#totals a:has-text('Show the totals')")
        expect(page.locator("#totals")).to_have_text(f"{PER_PAGE + 2} batches · {sum(ascending):,} certificates")

        page.click("#batches th a:has-text('Quantity')")
        expect_rows(page, ascending[:PER_PAGE], page_number=1, pages=2, checkboxes=checkboxes)
        expect(page.locator("#batches th a:has-text('Quantity')")).to_have_text("Quantity ▲")
        page.click(".pagination a:has-text('Next')")
        expect_rows(page, ascending[PER_PAGE:], page_number=2, pages=2, checkboxes=checkboxes)
        expect_tab(page, tab_label)
        assert f"tab={tab}" in page.url and "sort=quantity" in page.url and "page=2" in page.url
        screenshot(page, f"{label}-{tab}-sorted-page-2")

        # A filter keeps the tab and the sort, and starts again at page 1; paging keeps the filter.
        filtered = ascending[1:]
        page.fill("input[name=quantity_min]", str(filtered[0]))
        page.press("input[name=quantity_min]", "Enter")
        expect_rows(page, filtered[:PER_PAGE], page_number=1, pages=2, checkboxes=checkboxes)
        page.click(".pagination a:has-text('Next')")
        expect_rows(page, filtered[PER_PAGE:], page_number=2, pages=2, checkboxes=checkboxes)

        page.click("#batches th a:has-text('Quantity')")  # the other way, from page 1, still filtered
        descending = filtered[::-1]
        expect_rows(page, descending[:PER_PAGE], page_number=1, pages=2, checkboxes=checkboxes)
        expect(page.locator("#batches th a:has-text('Quantity')")).to_have_text("Quantity ▼")
        page.click(".pagination a:has-text('Next')")
        expect_rows(page, descending[PER_PAGE:], page_number=2, pages=2, checkboxes=checkboxes)
        expect_tab(page, tab_label)
        expect(page.locator("input[name=quantity_min]")).to_have_value(str(filtered[0]))
        screenshot(page, f"{label}-{tab}-filtered-descending-page-2")
        assert "sort=-quantity" in page.url and "page=2" in page.url
        if htmx:  # every step swapped in, no page load
            assert page.evaluate("window.notReloaded") is True

    page.click("nav.tabs a:has-text('Pending')")
    expect_tab(page, "Pending")
    expect(page.locator(".pending-outgoing tbody tr")).to_have_count(1)
    expect(page.locator(".pending-outgoing tbody tr")).to_contain_text(f"Transfer {every_tab['pending'].pk}")

    page.click("nav.tabs a:has-text('Retired')")
    expect_tab(page, "Retired")
    expect(page.locator("#retirements tbody tr")).to_have_count(1)
    expect(page.locator("#retirements tbody tr")).to_contain_text(every_tab["retirement"].reference)
    expect(page.locator("#retirements tbody td.num")).to_have_text("2,000")
    screenshot(page, f"{label}-retired")

    page.click("nav.tabs a:has-text('Transactions')")
    expect_tab(page, "Transactions")
    expect(page.locator("#transactions tbody tr")).to_have_count(TRANSACTIONS_PER_PAGE)
    page.click(".pagination a:has-text('Next')")
    expect_tab(page, "Transactions")
    expect(page.locator("#transactions tbody tr")).to_have_count(1)
    expect(page.locator(".pagination span")).to_have_text("Page 2 of 2")


def sort_and_page_on_a_phone(page, every_tab, screenshot, tab_label, *, htmx=True):
    page.set_viewport_size({"width": 390, "height": 844})
    page.click(f"nav.tabs a:has-text('{tab_label}')")
    if not htmx:
        page.click("#totals a:has-text('Show the totals')")
    page.click("#batches th a:has-text('Quantity')")
    expect(page.locator("#batches th a:has-text('Quantity')")).to_have_text("Quantity ▲")
    page.click(".pagination a:has-text('Next')")
    expect_rows(page, every_tab["quantities"][tab_label.lower()][PER_PAGE:], page_number=2, pages=2,
                checkboxes=tab_label == "Active")
    expect_tab(page, tab_label)
    screenshot(page, f"390px-{tab_label.lower()}-sorted-page-2")


def test_every_tab_sorts_and_pages_with_htmx(sign_in, trader, every_tab, screenshot):
    page = sign_in(trader)
    page_and_sort_every_tab(page, every_tab, screenshot, "htmx", htmx=True)
    sort_and_page_on_a_phone(page, every_tab, screenshot, "Exported")


def test_every_tab_sorts_and_pages_without_javascript(sign_in, trader, every_tab, screenshot):
    page = sign_in(trader, java_script_enabled=False)
    page_and_sort_every_tab(page, every_tab, screenshot, "no-js", htmx=False)
    sort_and_page_on_a_phone(page, every_tab, screenshot, "Active", htmx=False)
