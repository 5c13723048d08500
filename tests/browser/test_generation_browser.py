"""Generation data from the owner's upload to the staff's issuance and back to the owner's pages."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from certificates.models import Generator
from issuance.models import Issuance

from ..generation import last_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/work/shots/issuance")
MONTHS = [last_month(2), last_month(1)]


def shot(page, name):
    if SHOTS.parent.exists():  # the screenshots of this branch's pages, to look at
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("java_script, width", [(True, 1280), (False, 390)])
def test_the_owner_uploads_months_staff_issue_them_the_owner_sees_what_was_issued(
        sign_in, issue_confirm_page, live_server, trader, generator, account, mass_media, tmp_path,
        java_script, width):
    Generator.objects.filter(pk=generator.pk).update(account=account)
    label = f"{'js' if java_script else 'nojs'}-{width}"
    page = sign_in(trader, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    page.click("nav >> text=Generation")
    page.wait_for_url("**/generation/")
    page.click("text=Upload generation data")
    with page.expect_download() as download_info:
        page.click("text=Generation Data Template")
    template = open(download_info.value.path(), encoding="utf-8", newline="").read()
    assert template == "Generator ID,Month,MWh\r\n"

    bad = tmp_path / "bad.csv"
    bad.write_text(template + f"M805,{MONTHS[0]:%m/%Y},100.4\r\nM805,{MONTHS[1]:%m/%Y},-3\r\n")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(page.locator("#upload-errors tbody tr")).to_have_count(1)
    shot(page, f"upload-errors-{label}")

    good = tmp_path / "good.csv"
    good.write_text(template + f"M805,{MONTHS[0]:%m/%Y},100.4\r\nM805,{MONTHS[1]:%m/%Y},100.7\r\n")
    page.goto(f"{live_server.url}/generation/uploads/")
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "completed", timeout=30_000)
    expect(page.locator("#upload-reports tbody tr")).to_have_count(2)
    shot(page, f"upload-completed-{label}")
    page.goto(f"{live_server.url}/generation/uploads/")
    shot(page, f"uploads-{label}")

    staff = issue_confirm_page()
    expect(staff.locator("text=Certificates to issue")).to_be_visible()
    assert "201" in staff.locator("#issue-totals").inner_text()
    shot(staff, f"admin-confirm-{label}")
    staff.click("input[type=submit][value^='Issue']")
    expect(staff.locator(".messagelist")).to_contain_text("Issued 2 generator-months: 201 certificates.")
    shot(staff, f"admin-issued-{label}")

    page.goto(f"{live_server.url}/generation/")
    expect(page.locator("#reports tbody tr")).to_have_count(2)
    shot(page, f"reports-{label}")
    later = Issuance.objects.get(month=MONTHS[1])
    assert (later.quantity, str(later.carry_in), str(later.carry_out)) == (101, "0.400", "0.100")
    page.click(f"a[href='/generation/issuances/{later.pk}/']")
    expect(page.locator("h1")).to_contain_text(f"{MONTHS[1]:%m/%Y}")
    expect(page.locator("#instructions")).to_be_visible()
    shot(page, f"issuance-{label}")
    staff.context.close()
