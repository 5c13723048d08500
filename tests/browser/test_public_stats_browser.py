"""The public statistics, signed out, in a real browser: from the sign-in page's footer to the
statistics, a tab, a grouping and a filter, the CSV; then the approved generators. JavaScript on
(htmx swaps the results) and off (plain links and forms), at 1280 and 390 px; axe clean."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from events.services import events_consume
from public_stats.services import CONSUMER
from tests.conftest import retire
from tests.factories import GeneratorFactory, RetirementOptionFactory
from transfers.services import TransferLine

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_serious_violations(page) -> None:
    violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                  for violation in Axe().run(page).response["violations"]
                  if violation["impact"] in {"critical", "serious"} or violation["id"] in {"landmark-unique",
                                                                                           "empty-table-header"}]
    assert violations == []


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("width", [1280, 390])
def test_anyone_reads_the_statistics_and_the_generators(browser, live_server, staff, org, trader, account,
                                                        retirement_account, screenshot, javascript, width):
    wind = GeneratorFactory(organization=org, code="M805", name="Prairie Ridge Wind")
    solar = GeneratorFactory(organization=org, code="M833", name="Mower County Solar", fuel_type="solar",
                             state="IA", eligibilities=["IA AEP"], capacity_mw="12.5")
    for generator, quantity in ((wind, 1200), (solar, 300)):
        certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2024, 1),
                                        quantity=quantity, account=account)
        retire(organization=org, user=trader, lines=[TransferLine(certificate.batches.get().pk, quantity // 3)],
               account=retirement_account, option=RetirementOptionFactory())
    events_consume(consumer=CONSUMER)

    context = browser.new_context(java_script_enabled=javascript, viewport={"width": width, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/login/")
        page.get_by_role("link", name="Registry statistics").click()
        expect(page.locator("h1")).to_have_text("Registry statistics")
        expect(page.locator("#total")).to_contain_text("1,500 MWh issued in all")
        if javascript:
            no_serious_violations(page)

        page.get_by_role("link", name="Retired", exact=True).click()
        expect(page.locator("#total")).to_contain_text("500 MWh retired in all")
        page.select_option("#id_by", "fuel")
        if not javascript:
            page.get_by_role("button", name="Show").click()
        expect(page.locator("#results-heading")).to_have_text("Certificates retired, by fuel")
        expect(page.locator("#statistics tbody tr")).to_have_count(2)
        assert page.locator("#statistics tbody").inner_text().split() == ["Solar", "100", "Wind", "400"]
        assert page.locator("#statistics-chart rect").count() == 2
        assert "by=fuel" in page.url and "activity=retired" in page.url  # the address says what is shown
        page.select_option("#id_state", "IA")
        if not javascript:
            page.get_by_role("button", name="Show").click()
        expect(page.locator("#statistics tbody tr")).to_have_count(1)
        expect(page.locator("#total")).to_contain_text("100 MWh retired in all")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"statistics-{width}")
        if javascript:
            no_serious_violations(page)
        with page.expect_download() as download:
            page.get_by_role("link", name="Download CSV").click()
        assert download.value.suggested_filename == "statistics-retired-by-fuel.csv"

        page.get_by_role("link", name="Approved generators").first.click()
        expect(page.locator("h1")).to_have_text("Approved generators")
        expect(page.locator("#generators tbody tr")).to_have_count(2)
        page.select_option("#id_fuel", "solar")
        if not javascript:
            page.get_by_role("button", name="Show").click()
        expect(page.locator("#generators tbody tr")).to_have_count(1)
        expect(page.locator("#generators")).to_contain_text("Mower County Solar")
        expect(page.locator("#capacity")).to_contain_text("12.5")
        assert org.name not in page.locator("main").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        screenshot(page, f"generators-{width}")
        if javascript:
            no_serious_violations(page)
    finally:
        context.close()
