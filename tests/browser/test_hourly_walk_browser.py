"""The whole hourly flow in one walk (issue 33): a generator's owner uploads a day of interval data, staff
issue it in the admin, the owner finds hours on the dashboard by an hour of day and an interval range and
transfers some to another organization with the wizard; that organization accepts them, uploads its
site's consumption, matches it and opens the matching statement and its public page. At 1280 px with
JavaScript (each page axe-clean) and at 390 px without it; every page read in the registry's words for an
hour (`11/01/2026 01:00 CDT–01:00 CST`: the autumn night has two one o'clocks)."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from matching.models import MatchingStatement
from transfers.models import Transfer

from ..factories import AccountFactory, GeneratorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
DAY = ProductionPeriod(datetime.datetime(2026, 11, 1, tzinfo=CHICAGO),  # 25 hours: 01:00 twice
                       datetime.datetime(2026, 11, 2, tzinfo=CHICAGO)).hours
MOVED = ["11/01/2026 01:00 CDT–01:00 CST", "11/01/2026 01:00–02:00 CST", "11/01/2026 02:00–03:00 CST"]


def rows(csv_header: str, code: str, wh) -> str:
    return csv_header + "".join(f"{code},{hour.start.astimezone(CHICAGO).isoformat()},"
                                f"{hour.end.astimezone(CHICAGO).isoformat()},{wh(index)}\r\n"
                                for index, hour in enumerate(DAY))


@pytest.mark.parametrize("java_script, width", [(True, 1280), (False, 390)])
def test_hours_uploaded_issued_filtered_transferred_accepted_matched_and_verified(
        sign_in, browser, issue_confirm_page, live_server, screenshot, trader, org, account, counterparty,
        counterparty_trader, counterparty_account, mass_media, tmp_path, java_script, width):
    GeneratorFactory(organization=org, code="H100", name="Lakeside Solar", granular=True, capacity_mw=Decimal(50),
                     account=account, emissions_factor=Decimal(41), emissions_factor_source="IPCC 2014")
    claims = AccountFactory(organization=counterparty, name="24/7 claims", type=Account.Type.RETIREMENT)
    options = {"java_script_enabled": java_script, "viewport": {"width": width, "height": 900}}
    axe, found = Axe(), {}

    def look(page, name):
        """A picture of each page for people to look at, and (with JavaScript) axe's serious findings."""
        screenshot(page, f"{name}-{width}-{'js' if java_script else 'nojs'}")
        if java_script:
            violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                          for violation in axe.run(page).response["violations"]
                          if violation["impact"] in ("critical", "serious")]
            if violations:
                found[name] = violations

    def filtered(page):
        if not java_script:  # a plain GET form; with JavaScript, htmx swaps the table on change
            page.click("#filters button[type=submit]")

    # The owner uploads the day's 25 hours of generation.
    owner = sign_in(trader, **options)
    owner.goto(f"{live_server.url}/generation/uploads/")
    with owner.expect_download() as download:
        owner.click("text=Interval Data Template")
    template = open(download.value.path(), encoding="utf-8", newline="").read()
    generation = tmp_path / "generation.csv"
    generation.write_text(rows(template, "H100", lambda index: 1_000_000 + index))
    owner.set_input_files("input[type=file]", str(generation))
    owner.click("button:has-text('Upload')")
    expect(owner.locator("#upload-status")).to_have_attribute("data-status", "completed", timeout=30_000)
    look(owner, "1-upload")

    # Staff issue the month in the admin, with the monthly generators' action.
    staff = issue_confirm_page()
    staff.click("input[type=submit][value^='Issue 25 certificates']")
    expect(staff.locator(".messagelist")).to_contain_text("Issued 1 generator-month: 25 certificates.")
    staff.context.close()

    # The owner's hourly batches, worded as hours in the registry's zone; then an hour of day, and a range.
    owner.goto(f"{live_server.url}/certificates/?tab=active")
    batches = owner.locator("#batches tbody tr")
    expect(batches).to_have_count(25)
    expect(owner.locator("#batches")).to_contain_text(MOVED[0])
    look(owner, "2-dashboard")
    owner.select_option("select[name=hour]", "1")
    filtered(owner)
    expect(batches).to_have_count(2)  # the two one o'clocks
    owner.select_option("select[name=hour]", "")
    owner.fill("input[name=interval_from]", "2026-11-01T01:00")
    owner.fill("input[name=interval_to]", "2026-11-01T03:00")
    filtered(owner)
    expect(batches).to_have_count(3)
    assert [batches.nth(index).locator("td[data-label=Vintage]").inner_text() for index in range(3)] == MOVED[::-1]
    look(owner, "3-dashboard-filtered")

    # The three hours found, in part, to the other organization with the four steps.
    owner.click("button[name=action][value=add]")  # Select all on this page
    expect(owner.locator("[data-selection-count]")).to_have_text("3")
    # the boxes ticked as the selection: a press of Transfer takes the boxes as they are shown
    expect(owner.locator("#batches input[type=checkbox]:checked")).to_have_count(3)
    owner.click("#transfer-button")
    owner.wait_for_selector("[data-step=quantity]")
    quantities = owner.locator("#wizard input[type=number]")
    expect(quantities).to_have_count(3)
    for shown in MOVED:
        expect(owner.locator("#wizard")).to_contain_text(shown)
    look(owner, "4-wizard-quantity")
    for index in range(3):
        quantities.nth(index).fill("500000")
    owner.click("#wizard button:has-text('Next')")
    owner.wait_for_selector("[data-step=destination]")
    owner.check("input[name=kind][value=organization]")
    owner.fill("#id_organization", counterparty.public_id)
    owner.click("#wizard button:has-text('Next')")
    owner.wait_for_selector("[data-step=review]")
    look(owner, "5-wizard-review")
    owner.click("#wizard a:has-text('Review')")
    owner.wait_for_selector("[data-step=confirm]")
    owner.click("#wizard button:has-text('Transfer')")
    owner.wait_for_selector("text=Download a transaction summary")
    transfer = Transfer.objects.get(organization=org, status=Transfer.Status.PENDING)

    # The other organization accepts them.
    consumer = sign_in(counterparty_trader, **options)
    consumer.goto(f"{live_server.url}/transfers/{transfer.pk}/")
    for shown in MOVED:
        expect(consumer.locator("main")).to_contain_text(shown)
    look(consumer, "6-transfer")
    consumer.click("a:has-text('Accept')")
    consumer.select_option("select[name=account]", str(counterparty_account.pk))
    consumer.click("button:has-text('Accept')")
    expect(consumer.locator("body")).to_contain_text(
        f"Transfer {transfer.pk} accepted into {counterparty_account.public_id}")
    consumer.goto(f"{live_server.url}/certificates/?tab=active")
    expect(consumer.locator("#batches tbody tr")).to_have_count(3)
    look(consumer, "7-received")
    assert sorted(CertificateBatch.objects.filter(account=counterparty_account).values_list("quantity", flat=True)) \
        == [500_000] * 3

    # It registers its site, uploads the day's consumption (600,000 Wh an hour) and matches it.
    consumer.goto(f"{live_server.url}/matching/")
    consumer.fill("#id_code", "METER-1")
    consumer.fill("#id_name", "Duluth plant")
    consumer.click("button:has-text('Register the site')")
    expect(consumer.locator("#sites")).to_contain_text("METER-1")
    with consumer.expect_download() as download:
        consumer.click("text=Consumption Template")
    consumption = tmp_path / "consumption.csv"
    consumption.write_text(rows(open(download.value.path(), encoding="utf-8", newline="").read(), "METER-1",
                                lambda index: 600_000))
    consumer.set_input_files("input[type=file]", str(consumption))
    consumer.click("button:has-text('Upload')")
    expect(consumer.locator(".messages, [role=status]").first).to_contain_text("25 consumption readings recorded")
    consumer.click("#sites >> text=METER-1")
    look(consumer, "8-site")
    consumer.select_option("#id_account", str(claims.pk))
    consumer.click("#match-form button:has-text('Match')")
    expect(consumer.locator("h1")).to_contain_text("Matching statement")
    expect(consumer.locator("#hours-matched")).to_have_text("3 of 25")
    expect(consumer.locator("#total-matched")).to_contain_text("10.0%")  # 1,500,000 of 15,000,000 Wh
    look(consumer, "9-statement")
    statement = MatchingStatement.objects.get()

    # Anyone opens its public page, signed out.
    public = browser.new_context(**options)
    try:
        anyone = public.new_page()
        anyone.goto(f"{live_server.url}/verify/{statement.reference}/hours/")
        expect(anyone.locator("#digest")).to_have_text(consumer.locator("#digest").inner_text())
        expect(anyone.locator("#total-matched")).to_contain_text("10.0%")
        look(anyone, "10-public")
        anyone.click(f"text=retirement {statement.reference}")
        expect(anyone.locator("#retired-batches tbody tr")).to_have_count(3)
        for shown in MOVED:
            expect(anyone.locator("#retired-batches")).to_contain_text(shown)
        look(anyone, "11-public-retirement")
    finally:
        public.close()
    assert found == {}
