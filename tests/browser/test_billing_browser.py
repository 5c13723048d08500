"""The Billing tab on a phone's screen, as a manager reads it: the invoice with its status, PDF and
CSV, and the current period's charges; JavaScript on and off, axe clean, nothing wider than the screen."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from ..billing import january_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_manager_reads_the_billing_tab_on_a_phone(sign_in, live_server, manager, viewer, org, issue, no_wakeups,
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
    # The manager names a member billing contact.
    page.select_option("#billing-contact", label=f"{viewer.email} (viewer)")
    page.click("text=Save billing contact")
    expect(page.locator("main")).to_contain_text(f"Invoices now go to {viewer.email}.")
    expect(page.locator("main")).to_contain_text(f"{viewer.email}, the billing contact")
    screenshot(page, "billing-contact-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_staff_record_a_payment_in_the_admin_and_the_manager_sees_the_invoice_paid(
        browser, sign_in, live_server, admin_user, manager, org, issue, no_wakeups, screenshot, java_script):
    invoice = january_invoice(issue, org)
    staff_page = browser.new_context(viewport=PHONE, java_script_enabled=java_script).new_page()
    staff_page.goto(f"{live_server.url}/admin/login/")
    staff_page.fill("input[name=username]", admin_user.email)
    staff_page.fill("input[name=password]", "password")
    staff_page.click("input[type=submit]")
    staff_page.goto(f"{live_server.url}/admin/billing/payment/add/")
    staff_page.fill("input[name=invoice]", str(invoice.pk))
    staff_page.fill("input[name=amount]", "80.01")
    staff_page.fill("input[name=received_on]", "2090-02-20")
    staff_page.select_option("select[name=method]", "bank_transfer")
    staff_page.fill("input[name=reference]", "WIRE-20")
    staff_page.click("input[name=_save]")
    expect(staff_page.locator(".errornote, .errorlist").first).to_be_visible()
    expect(staff_page.locator("#payment_form")).to_contain_text(
        "The amount $80.01 is more than the balance of INV-000001 ($80.00).")
    screenshot(staff_page, "admin-payment-refused-390")
    staff_page.fill("input[name=amount]", "80.00")
    staff_page.click("input[name=_save]")
    expect(staff_page.locator(".messagelist")).to_contain_text("Recorded $80.00 on INV-000001 (2090-02-20)")
    screenshot(staff_page, "admin-payment-recorded-390")
    staff_page.context.close()

    page = sign_in(manager, java_script_enabled=java_script, viewport=PHONE)
    page.goto(f"{live_server.url}/organization/billing/")
    expect(page.locator("main")).to_contain_text("Paid")
    screenshot(page, "billing-paid-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
