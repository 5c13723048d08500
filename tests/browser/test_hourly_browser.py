"""A granular generator's day of hourly data: uploaded by its owner, issued by staff with the same
action as the monthly months, and its hourly batches on the owner's dashboard, read at 390 px with
JavaScript off and at 1280 px with it on (issue 33)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from certificates.models import Certificate, CertificateBatch
from certificates.periods import ProductionPeriod

from ..factories import GeneratorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


@pytest.mark.parametrize("java_script, width", [(True, 1280), (False, 390)])
def test_the_owner_uploads_a_day_of_hours_staff_issue_it_the_owner_holds_hourly_batches(
        sign_in, issue_confirm_page, live_server, trader, org, account, second_account, mass_media, tmp_path,
        screenshot, java_script, width):
    GeneratorFactory(organization=org, code="H100", name="Lakeside Solar", granular=True, capacity_mw=Decimal(50),
                     account=account, emissions_factor=Decimal(41), emissions_factor_source="IPCC 2014")
    label = f"{'js' if java_script else 'nojs'}-{width}"
    page = sign_in(trader, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/generation/uploads/")
    with page.expect_download() as download_info:
        page.click("text=Interval Data Template")
    template = open(download_info.value.path(), encoding="utf-8", newline="").read()
    assert template == "Generator ID,Interval start,Interval end,Wh\r\n"
    screenshot(page, f"uploads-{label}")

    day = ProductionPeriod(datetime.datetime(2026, 11, 1, tzinfo=CHICAGO),  # 25 hours: 01:00 twice
                           datetime.datetime(2026, 11, 2, tzinfo=CHICAGO)).hours
    bad = tmp_path / "bad.csv"
    bad.write_text(template + f"H100,{day[0].start.isoformat()},{day[1].end.isoformat()},1000\r\n")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "failed", timeout=30_000)
    expect(page.locator("#upload-errors")).to_contain_text("an interval lasts one hour")
    screenshot(page, f"upload-errors-{label}")

    good = tmp_path / "good.csv"
    good.write_text(template + "".join(f"H100,{hour.start.astimezone(CHICAGO).isoformat()},"
                                       f"{hour.end.astimezone(CHICAGO).isoformat()},{1_000_000 + index}\r\n"
                                       for index, hour in enumerate(day)))
    page.goto(f"{live_server.url}/generation/uploads/")
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "completed", timeout=30_000)
    screenshot(page, f"upload-completed-{label}")

    staff = issue_confirm_page()
    expect(staff.locator("#issue-totals")).to_contain_text("Hourly certificates to issue")
    assert "25" in staff.locator("#issue-totals").inner_text()
    screenshot(staff, f"admin-confirm-{label}")
    staff.click("input[type=submit][value^='Issue 25 certificates']")
    expect(staff.locator(".messagelist")).to_contain_text("Issued 1 generator-month: 25 certificates.")
    assert Certificate.objects.filter(generator__code="H100").count() == 25

    page.goto(f"{live_server.url}/certificates/?tab=active")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(25)
    text = page.locator("table").inner_text()
    assert "11/01/2026 01:00 CDT–01:00 CST" in text  # the first 01:00, to the second
    assert "11/01/2026 01:00–02:00 CST" in text
    assert "H100-MN-20261101T0600Z-" in text  # the interval's UTC start in the serial base
    screenshot(page, f"dashboard-{label}")

    # The hour of day, in the registry's zone: the autumn night's one o'clock is two hours (issue 33, item 3).
    page.select_option("select[name=hour]", "1")
    if not java_script:  # a plain GET form; with JavaScript, htmx swaps the table on change
        page.click("#filters button[type=submit]")
    expect(rows).to_have_count(2)
    assert "hour=1" in page.url
    page.fill("input[name=interval_from]", "2026-11-01T01:00")
    page.select_option("select[name=hour]", "")
    page.fill("input[name=interval_to]", "2026-11-01T03:00")
    if not java_script:
        page.click("#filters button[type=submit]")
    expect(rows).to_have_count(3)  # 01:00 CDT, 01:00 CST, 02:00 CST, read in the trader's zone
    screenshot(page, f"dashboard-hourly-filters-{label}")

    # An hour moved in part to another account with the wizard, as any batch (a plain form post without
    # JavaScript): the lowest serials leave.
    hour = CertificateBatch.objects.get(certificate__generator__code="H100", certificate__period=day[1])
    page.goto(f"{live_server.url}/transfers/new/?batch={hour.pk}")
    page.wait_for_selector("[data-step=quantity]")
    page.locator("#wizard input[type=number]").fill("400000")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=destination]")
    page.check("input[name=kind][value=internal]")
    page.select_option("select[name=account]", str(second_account.pk))
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=review]")
    assert f"H100-MN-{day[1].serial_text}-" in page.inner_text("#wizard")  # the interval, in the serials
    screenshot(page, f"wizard-review-{label}")
    page.click("#wizard a:has-text('Review')")
    page.wait_for_selector("[data-step=confirm]")
    page.click("#wizard button:has-text('Transfer')")
    page.wait_for_selector("text=Download a transaction summary")
    moved = CertificateBatch.objects.get(certificate=hour.certificate, account=second_account)
    assert (moved.serial_start, moved.serial_end, moved.status) == (1, 400_000, "active")
