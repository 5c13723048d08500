"""The Billing tab on a phone's screen, as a manager reads it: the invoice with its status, PDF and
CSV, and the current period's charges; JavaScript on and off, axe clean, nothing wider than the screen."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from ..billing import january_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_manager_reads_the_billing_tab_on_a_phone(sign_in, live_server, manager, org, issue, no_wakeups,
                                                    screenshot, java_script):
    invoice = january_invoice(issue, org)
    page = sign_in(manager, java_script_enabled=java_script, viewport=PHONE)
    page.goto(f"{live_server.url}/organization/billing/")
    expect(page.locator("main")).to_contain_text(invoice.reference)
    expect(page.locator("main")).to_contain_text("$80.00")
    expect(page.locator("main")).to_contain_text("5,000 RECs × $0.03")
    screenshot(page, "billing-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for region in page.locator(".table-wrap").all():  # each row a card: no table scrolls sideways
        assert region.evaluate("e => e.scrollWidth <= e.clientWidth")
    with page.expect_download() as download:
        page.click(f"a[href$='/invoices/{invoice.number}.pdf']")
    assert download.value.suggested_filename.endswith(".pdf")
    if java_script:  # axe-core runs in the page: not where scripts are off
        violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                      for violation in Axe().run(page).response["violations"]
                      if violation["impact"] in {"critical", "serious"}]
        assert violations == []
