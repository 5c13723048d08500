"""A correction from the owner's corrected upload to staff's approval in the admin, and back to the
owner's pages: the month's corrections and their effect."""

import pytest
from playwright.sync_api import expect

from certificates.models import Generator
from issuance.models import Correction, GenerationReport
from issuance.services import issuance_run

from ..generation import last_month, report

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MONTH = last_month(2)


def test_a_corrected_upload_becomes_a_request_staff_approve_it_and_the_owner_sees_its_effect(
        sign_in, browser, live_server, screenshot, manager, staff, generator, account, staff_admin, mass_media,
        tmp_path):
    Generator.objects.filter(pk=generator.pk).update(account=account)
    generator.refresh_from_db()
    issuance_run(user=staff, reports=[report(generator, MONTH, "100.4", manager)])
    page = sign_in(manager, java_script_enabled=False, viewport={"width": 390, "height": 900})

    corrected = tmp_path / "corrected.csv"
    corrected.write_text(f"Generator ID,Month,MWh\r\nM805,{MONTH:%m/%Y},112.900\r\n")
    page.goto(f"{live_server.url}/generation/uploads/")
    page.set_input_files("input[type=file]", str(corrected))
    page.click("button:has-text('Upload')")
    page.goto(page.url)  # without JavaScript: reload until the worker is done
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "completed", timeout=30_000)
    expect(page.locator("#upload-corrections tbody tr")).to_contain_text("+12.500")
    screenshot(page, "upload-correction-390")
    assert GenerationReport.objects.count() == 1  # no second report of the issued month: a request
    correction = Correction.objects.get()

    staff_page = staff_admin
    staff_page.goto(f"{live_server.url}/admin/issuance/correction/")
    expect(staff_page.locator("#result_list")).to_contain_text("+12.500")
    staff_page.check(f"input[name=_selected_action][value='{correction.pk}']")
    staff_page.select_option("select[name=action]", "approve")
    staff_page.click("button[name=index]")
    expect(staff_page.locator("#corrections")).to_contain_text("112.900")
    staff_page.fill("textarea[name=note]", "Meter statement checked.")
    screenshot(staff_page, "admin-approve-confirm")
    staff_page.click("input[type=submit][value^='Approve']")
    expect(staff_page.locator(".messagelist")).to_contain_text("Approved 1 correction: 12 certificates issued")
    screenshot(staff_page, "admin-approved")
    staff_page.context.close()

    page.goto(f"{live_server.url}/generation/")
    expect(page.locator("#corrections tbody tr")).to_contain_text("12 certificates issued")
    page.click(f"#corrections a[href^='/generation/issuances/{correction.issuance_id}/']")
    expect(page.locator("#corrections table")).to_contain_text("Approved")
    correction.refresh_from_db()
    expect(page.locator("#corrections table")).to_contain_text(correction.serial_range)
    screenshot(page, "month-corrected-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1  # nothing wider than the phone
