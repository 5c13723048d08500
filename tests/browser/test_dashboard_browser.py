import csv
import io

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_filter_select_transfer_and_download(sign_in, trader, holdings, screenshot, live_server):
    page = sign_in(trader)
    assert page.inner_text("#totals") == "3 batches · 1,700 certificates"
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

    assert page.locator("#transfer-button.disabled").count() == 1
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
