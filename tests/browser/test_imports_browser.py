"""An import by conversion end to end in Chromium (#32 item 1): registry staff record it in the admin; the
recipient's manager finds it on the Pending tab, worded by origin, and accepts it, on a phone, with
JavaScript on and off; axe finds nothing critical or serious."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from certificates.models import CertificateBatch
from imports.models import Import

from ..factories import member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_staff_record_an_import_and_the_recipient_accepts_it_on_a_phone(
        sign_in, live_server, screenshot, staff_admin, tracking_system, counterparty, counterparty_account,
        no_wakeups, java_script):
    staff_page = staff_admin
    staff_page.goto(f"{live_server.url}/admin/imports/import/")
    staff_page.click("text=Record an import")
    staff_page.select_option("select[name=tracking_system]", str(tracking_system.pk))
    staff_page.fill("input[name=original_serial]", "MIRECS-123-MI-01-2024-77-1 to 100")
    staff_page.fill("input[name=generator_id]", "123")
    staff_page.fill("input[name=generator_name]", "Thumb Wind")
    staff_page.select_option("select[name=fuel]", "wind")
    staff_page.select_option("select[name=technology]", "onshore_wind")
    staff_page.select_option("select[name=state]", "MI")
    staff_page.fill("input[name=capacity_mw]", "99.5")
    staff_page.fill("input[name=vintage]", "01/2024")
    staff_page.fill("input[name=eligibilities]", "MI RPS; Green-e")
    staff_page.fill("input[name=quantity]", "100")
    staff_page.select_option("select[name=recipient]", str(counterparty.pk))
    staff_page.click("input[type=submit]")
    expect(staff_page.locator(".messagelist")).to_contain_text("waiting for Lakeshore Power Cooperative")
    screenshot(staff_page, "admin-recorded")
    record = Import.objects.get()

    manager = member(counterparty, "manager", email="manager@lakeshore.example")
    page = sign_in(manager, java_script_enabled=java_script, viewport=PHONE)
    page.goto(f"{live_server.url}/certificates/?tab=pending")
    row = page.locator("table.pending-incoming tr", has_text=f"Import {record.transfer_id}")
    expect(row).to_contain_text(f"Imported from {tracking_system.name}")
    screenshot(page, "pending-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if java_script:
        violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                      for violation in Axe().run(page).response["violations"]
                      if violation["impact"] in {"critical", "serious"}]
        assert violations == []
    row.get_by_role("link", name="Accept").click()
    expect(page.locator("main")).to_contain_text(record.certificate.origin_text)
    screenshot(page, "accept-390")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("main")).to_contain_text(f"Import {record.transfer_id}")
    screenshot(page, "accepted-390")
    batch = CertificateBatch.objects.get(certificate=record.certificate)
    assert (batch.status, batch.account_id) == ("active", counterparty_account.pk)
