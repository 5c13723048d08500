import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.factories import RetirementOptionFactory
from transfers.models import Transfer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("width", [1280, 390])
def test_retire_part_of_a_batch_through_the_four_steps(
        browser, live_server, sign_in, trader, batch, account, retirement_account, screenshot, javascript, width):
    """Select a batch on the Active tab, press Retire, retire 250 of it toward Minnesota's RES."""
    option = RetirementOptionFactory()
    page = sign_in(trader, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.locator("#batches tr", has_text=batch.serial_number).locator("input[type=checkbox]").check()
    if javascript:
        page.wait_for_selector("[data-selection-count='1']")
        page.evaluate("window.notReloaded = true")
    else:  # without JavaScript the selection is saved by its form's button
        page.click("button[name=action][value=page]")
        page.wait_for_selector("[data-selection-count='1']")
    screenshot(page, "0-dashboard")
    page.click("#retire-button")
    page.wait_for_selector("[data-step=quantity]")
    assert page.title().startswith("Retire certificates")
    page.locator("#wizard input[type=number]").fill("250")
    screenshot(page, "1-quantity")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=destination]")
    assert "Step 2: Retirement details" in page.inner_text("#wizard")
    page.select_option("select[name=account]", str(retirement_account.pk))
    page.select_option("select[name=option]", str(option.pk))
    page.click("#wizard button:has-text('Next')")  # no compliance period yet: refused, with the reason
    page.wait_for_selector("text=Minnesota RES needs a compliance period (a year).")
    page.fill("input[name=compliance_period]", "2024")
    page.fill("input[name=beneficiary]", "Twin Cities <Library>")
    page.fill("textarea[name=notes]", "Filing for 2024")
    screenshot(page, "2-details")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=review]")
    review = page.inner_text("#wizard")
    base = batch.certificate.serial_base
    assert f"{base}-1 to 250" in review and f"{base}-251 to 1000" in review
    assert "Twin Cities <Library>" in review  # escaped, shown as typed
    screenshot(page, "3-review")
    page.click("#wizard a:has-text('Review')")
    page.wait_for_selector("[data-step=confirm]")
    screenshot(page, "4-confirm")
    page.click("#wizard button:has-text('Retire')")
    page.wait_for_selector("text=Certificates retired")
    screenshot(page, "5-done")
    if javascript:
        assert page.evaluate("window.notReloaded") is True  # every step swapped in by htmx
    transfer = Transfer.objects.exclude(status="draft").get()
    assert transfer.retirement.reference in page.inner_text("#wizard")
    retired = transfer.items.get().batch
    assert (transfer.kind, retired.status, retired.serial_start, retired.serial_end) == (
        "retirement", "retired", 1, 250)

    # The statement, then its verification link opened by someone not signed in.
    with page.expect_download() as download:
        page.click("text=Download the retirement statement")
    statement = PdfReader(download.value.path())
    text = "\n".join(pdf_page.extract_text() for pdf_page in statement.pages)
    link = re.search(r"https?://\S+/verify/[0-9A-Z]+/", text)[0]
    digest = re.search(r"\b[0-9a-f]{64}\b", text)[0]
    assert f"{base}-1 to 250" in text
    stranger = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": 900})
    public = stranger.new_page()
    public.goto(live_server.url + link[link.index("/verify/"):])
    assert f"{base}-1 to 250" in public.inner_text("#retired-batches")
    assert public.inner_text("#digest") == digest
    assert "Sign out" not in public.content()
    screenshot(public, "6-verification")
    stranger.close()

    # The Retired tab lists it; on a phone its rows are cards, not a table scrolling sideways.
    page.goto(live_server.url + "/certificates/?tab=retired")
    expect(page.locator("#retirements tbody tr")).to_have_count(1)
    if width == 390:
        assert page.eval_on_selector("#results .table-wrap", "e => e.scrollWidth <= e.clientWidth")
    screenshot(page, "7-retired-tab")
