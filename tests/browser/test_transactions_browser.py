"""The Transactions tab in the browser: filter, sort, page, search and download, with JavaScript on
(htmx swaps the results) and off (plain links and forms), at 1280 and 390 px."""

import csv
import io

import pytest
from playwright.sync_api import expect

from certificates.models import CertificateBatch
from registry.models import Membership
from tests.factories import AccountFactory, OrganizationFactory, member
from transfers import views

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PER_PAGE = 5
SALES = list(range(11, 19))  # eight sales to Lakeshore, 11 to 18 certificates, made in a mixed order


@pytest.fixture
def transactions(org, trader, issue, second_account, counterparty, counterparty_trader, counterparty_account,
                 foreign_batch, tracking_system, monkeypatch):
    from transfers.services import Destination, TransferLine, transfer_create

    monkeypatch.setattr(views, "TRANSACTIONS_PER_PAGE", PER_PAGE)
    for quantity in (14, 11, 18, 12, 17, 13, 16, 15):
        transfer_create(organization=org, user=trader, lines=[TransferLine(issue(quantity).pk, quantity)],
                        destination=Destination.to_organization(counterparty), notes=f"Sale of {quantity}")
    for quantity in (40, 50, 60):
        transfer_create(organization=org, user=trader, lines=[TransferLine(issue(quantity).pk, quantity)],
                        destination=Destination.internal(second_account), notes="Rebalancing holdings")
    transfer_create(organization=org, user=trader, lines=[TransferLine(issue(90).pk, 90)],
                    destination=Destination.export(tracking_system, "Cascade Utility"), notes="=1+2")
    incoming = transfer_create(organization=counterparty, user=counterparty_trader,
                               lines=[TransferLine(foreign_batch.pk, 7)], destination=Destination.to_organization(org),
                               notes="Spot sale — “wind”")
    elsewhere = OrganizationFactory(name="Outsider Renewables")
    AccountFactory(organization=elsewhere, name="Outsider active")  # to receive into
    member(elsewhere, Membership.Role.TRADER)
    left = CertificateBatch.objects.get(account=counterparty_account, status="active")
    transfer_create(organization=counterparty, user=counterparty_trader, lines=[TransferLine(left.pk, 5)],
                    destination=Destination.to_organization(elsewhere), notes="Not Prairie Wind's business")
    return {"incoming": incoming}


def expect_quantities(page, quantities, *, page_number, pages):
    expect(page.locator("#transactions tbody td.num")).to_have_text([str(quantity) for quantity in quantities])
    expect(page.locator(".pagination span")).to_have_text(f"Page {page_number} of {pages}")
    expect(page.locator("nav.tabs a[aria-current=page]")).to_have_text("Transactions")


def apply(page, htmx):
    """Without JavaScript the form is sent with its button; with htmx a change sends it by itself."""
    if not htmx:
        page.click("#filters button[type=submit]")


def filter_sort_and_page(page, counterparty, transactions, screenshot, label, *, htmx):
    page.click("nav.tabs a:has-text('Transactions')")
    expect(page.locator("#totals")).to_have_text("13 transactions")
    assert "Not Prairie Wind" not in page.inner_text("#transactions")
    if htmx:
        page.evaluate("window.notReloaded = true")

    # A type: the sales and the one received, 7 and 11 to 18.
    page.select_option("select[name=kind]", "organization")
    apply(page, htmx)
    expect(page.locator("#totals")).to_have_text("9 transactions")
    assert "kind=organization" in page.url

    ascending = [7, *SALES]
    page.click("#transactions th a:has-text('Quantity')")
    expect_quantities(page, ascending[:PER_PAGE], page_number=1, pages=2)
    expect(page.locator("#transactions th a:has-text('Quantity')")).to_have_text("Quantity ▲")
    page.click(".pagination a:has-text('Next')")
    expect_quantities(page, ascending[PER_PAGE:], page_number=2, pages=2)
    assert "sort=quantity" in page.url and "page=2" in page.url and "kind=organization" in page.url
    screenshot(page, f"{label}-1280-by-quantity-page-2")

    page.click("#transactions th a:has-text('Quantity')")  # the other way, from page 1, still filtered
    descending = ascending[::-1]
    expect_quantities(page, descending[:PER_PAGE], page_number=1, pages=2)
    expect(page.locator("#transactions th a:has-text('Quantity')")).to_have_text("Quantity ▼")
    page.click(".pagination a:has-text('Next')")
    expect_quantities(page, descending[PER_PAGE:], page_number=2, pages=2)

    # The counterparty by a part of its MM id, and a date range around today: the filter starts
    # again at page 1 and keeps the sort.
    page.fill("input[name=counterparty]", counterparty.public_id[3:])
    page.fill("input[name=submitted_from]", "2020-01-01")
    page.fill("input[name=submitted_to]", "2099-12-31")
    page.press("input[name=submitted_to]", "Enter")
    expect_quantities(page, descending[:PER_PAGE], page_number=1, pages=2)
    assert "sort=-quantity" in page.url and "page=" not in page.url

    # Sorted by counterparty: "From Lakeshore..." (the one received) and "To Lakeshore..." sort by
    # the name alone, ties newest last.
    page.click("#transactions th a:has-text('Counterparty')")
    expect(page.locator("#transactions th a:has-text('Counterparty')")).to_have_text("Counterparty ▲")
    expect(page.locator("#transactions tbody tr").first).to_contain_text("Lakeshore Power Cooperative")

    # A note.
    page.fill("input[name=notes]", "spot")
    page.press("input[name=notes]", "Enter")
    expect(page.locator("#transactions tbody tr")).to_have_count(1)
    expect(page.locator("#transactions tbody tr")).to_contain_text(f"Transfer {transactions['incoming'].pk}")
    expect(page.locator("#transactions tbody tr")).to_contain_text("From Lakeshore Power Cooperative")
    expect(page.locator("#transactions tbody tr")).to_contain_text("Spot sale — “wind”")

    # A transfer ID that is not one: said so, next to the results, the list unfiltered.
    page.fill("input[name=notes]", "")
    page.fill("input[name=transfer]", "abc")
    page.press("input[name=transfer]", "Enter")
    expect(page.locator("#filter-errors")).to_contain_text("Transfer ID: Enter a transfer ID as a whole number")
    expect(page.locator("#totals")).to_have_text("13 transactions")
    screenshot(page, f"{label}-1280-bad-transfer-id")

    page.fill("input[name=transfer]", f"Transfer {transactions['incoming'].pk}")
    page.press("input[name=transfer]", "Enter")
    expect(page.locator("#filter-errors")).to_have_count(0)
    expect(page.locator("#transactions tbody tr")).to_have_count(1)
    if htmx:  # every step swapped in, no page load
        assert page.evaluate("window.notReloaded") is True

    page.click("#filters a:has-text('Clear filters')")
    expect(page.locator("#totals")).to_have_text("13 transactions")


def download_and_look_on_a_phone(page, screenshot, label):
    page.select_option("select[name=kind]", "export")
    page.click("#filters button[type=submit]")
    expect(page.locator("#totals")).to_have_text("1 transaction")
    with page.expect_download() as download:
        page.click("#results a:has-text('Download')")
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert rows[0] == ["Transaction ID", "Submitted", "Type", "Status", "Quantity", "Counterparty", "Notes"]
    assert len(rows) == 2 and rows[1][4] == "90" and rows[1][6] == "'=1+2"

    page.click("#filters a:has-text('Clear filters')")
    expect(page.locator("#totals")).to_have_text("13 transactions")
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("#transactions th a:has-text('Quantity')")
    expect(page.locator("#transactions th a:has-text('Quantity')")).to_have_text("Quantity ▲")  # swapped in
    page.click(".pagination a:has-text('Next')")
    expect_quantities(page, [15, 16, 17, 18, 40], page_number=2, pages=3)
    for region in ("#filters", "#results"):  # nothing of the tab wider than the screen
        assert page.eval_on_selector(region, "e => e.getBoundingClientRect().right") <= 390
    # and the table within it laid out as cards, not scrolling sideways
    assert page.eval_on_selector("#results .table-wrap", "e => e.scrollWidth <= e.clientWidth")
    screenshot(page, f"{label}-390-by-quantity-page-2")


def test_transactions_filter_sort_and_page_with_htmx(sign_in, trader, counterparty, transactions, screenshot):
    page = sign_in(trader, viewport={"width": 1280, "height": 900})
    filter_sort_and_page(page, counterparty, transactions, screenshot, "htmx", htmx=True)
    download_and_look_on_a_phone(page, screenshot, "htmx")


def test_transactions_filter_sort_and_page_without_javascript(sign_in, trader, counterparty, transactions,
                                                              screenshot):
    page = sign_in(trader, viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    filter_sort_and_page(page, counterparty, transactions, screenshot, "no-js", htmx=False)
    download_and_look_on_a_phone(page, screenshot, "no-js")
