"""Hourly matching in the browser: a consumer registers a site, uploads a day of consumption read every
15 minutes (a file refused with its row first), matches it with the hourly certificates it holds, and
opens the statement and its public page and downloads its PDF; at 1280 and 390 px, with JavaScript
(each page axe-clean) and without (issue 33, item 4)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from matching.models import ConsumptionReading, MatchingStatement

from ..factories import GeneratorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
QUARTER = datetime.timedelta(minutes=15)
DAY = ProductionPeriod(datetime.datetime(2026, 11, 10, tzinfo=CHICAGO),
                       datetime.datetime(2026, 11, 11, tzinfo=CHICAGO)).hours


@pytest.mark.parametrize("java_script, width", [(True, 1280), (True, 390), (False, 390)])
def test_upload_a_day_of_consumption_match_it_and_open_the_statement_and_its_public_page(
        sign_in, browser, live_server, screenshot, trader, org, staff, account, retirement_account, tmp_path,
        no_wakeups, java_script, width):
    generator = GeneratorFactory(organization=org, code="H100", name="Lakeside Solar", granular=True,
                                 capacity_mw=Decimal(50), account=account)
    for index in range(8, 18):  # the daylight hours: 10 of the 24 have certificates, 600 Wh each
        certificate_issue(user=staff, generator=generator, period=DAY[index], quantity=600, account=account)
    axe, found = Axe(), {}

    def check(page, name):
        screenshot(page, f"{name}-{width}-{'js' if java_script else 'nojs'}")
        if not java_script:
            return  # axe is a script: it scans the same pages with JavaScript on
        violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                      for violation in axe.run(page).response["violations"]
                      if violation["impact"] in ("critical", "serious")]
        if violations:
            found[name] = violations

    page = sign_in(trader, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    page.click("nav >> text=Matching") if width > 400 else page.goto(f"{live_server.url}/matching/")
    page.fill("#id_code", "METER-1")
    page.fill("#id_name", "Duluth plant")
    page.click("button:has-text('Register the site')")
    expect(page.locator("#sites")).to_contain_text("METER-1")
    check(page, "sites")

    with page.expect_download() as download:
        page.click("text=Consumption Template")
    template = open(download.value.path(), encoding="utf-8", newline="").read()
    assert template == "Site ID,Interval start,Interval end,Wh\r\n"
    bad = tmp_path / "bad.csv"
    across = ProductionPeriod(DAY[0].end - QUARTER, DAY[1].start + QUARTER)  # 00:45 to 01:15
    bad.write_text(template + f"METER-1,{across.start.isoformat()},{across.end.isoformat()},1000\r\n")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-errors")).to_contain_text("runs past 01:00 CST, the end of its hour")
    assert page.locator("#upload-errors tbody tr td").first.inner_text() == "2"
    check(page, "upload-refused")

    good = tmp_path / "day.csv"
    quarters = [hour.start + quarter * QUARTER for hour in DAY for quarter in range(4)]  # a meter read every 15 min
    good.write_text(template + "".join(f"METER-1,{start.astimezone(CHICAGO).isoformat()},"
                                       f"{(start + QUARTER).astimezone(CHICAGO).isoformat()},250\r\n"
                                       for start in quarters))
    page.set_input_files("input[type=file]", str(good))
    page.click("button:has-text('Upload')")
    expect(page.locator(".messages, [role=status]").first).to_contain_text("96 consumption readings recorded")
    assert ConsumptionReading.objects.count() == 96

    page.click("#sites >> text=METER-1")
    expect(page.locator("#consumed")).to_contain_text("24,000 Wh")
    check(page, "site")
    page.select_option("#id_account", str(retirement_account.pk))
    page.click("#match-form button:has-text('Match')")
    expect(page.locator("h1")).to_contain_text("Matching statement")
    statement = MatchingStatement.objects.get()
    expect(page.locator("#hours-matched")).to_have_text("10 of 24")
    expect(page.locator("#total-matched")).to_contain_text("25.0%")  # 6,000 of 24,000 Wh
    expect(page.locator("#unmatched tbody tr")).to_have_count(24)  # 14 with none, 10 with 600 of 1,000
    assert page.locator("#matching-chart rect").count() == 24  # a bar an hour
    check(page, "statement")
    with page.expect_download() as download:
        page.click("#statement-pdf")
    assert open(download.value.path(), "rb").read(5) == b"%PDF-"

    public = browser.new_context(java_script_enabled=java_script, viewport={"width": width, "height": 900})
    try:
        anyone = public.new_page()
        anyone.goto(f"{live_server.url}/verify/{statement.reference}/hours/")
        expect(anyone.locator("#digest")).to_have_text(page.locator("#digest").inner_text())
        expect(anyone.locator("#total-matched")).to_contain_text("25.0%")
        check(anyone, "public")
        with anyone.expect_download() as download:
            anyone.click("#statement-pdf")
        assert download.value.suggested_filename == f"matching-statement-{statement.reference}.pdf"
        anyone.click(f"text=retirement {statement.reference}")
        expect(anyone.locator("h1")).to_contain_text(f"Retirement {statement.reference}")
        expect(anyone.locator("#retired-batches tbody tr")).to_have_count(10)
    finally:
        public.close()
    assert found == {}
