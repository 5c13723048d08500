import datetime

import pytest

from tests.conftest import retire
from tests.factories import RetirementOptionFactory
from transfers.models import Transfer
from transfers.services import TransferLine

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("width", [1280, 390])
def test_open_the_annual_report_from_the_retired_tab_and_choose_a_year(
        sign_in, org, trader, issue, retirement_account, screenshot, javascript, width):
    """Two retirements in 2024 and one in 2025: the Retired tab's Annual report, then 2024 chosen."""
    options = [RetirementOptionFactory(), RetirementOptionFactory(name="Green-e Energy certified sale",
                                                                  type="green_e", reason="voluntary", state="")]
    for quantity, year, option in ((1200, 2024, options[0]), (300, 2024, options[1]), (45, 2025, options[0])):
        retirement = retire(organization=org, user=trader, lines=[TransferLine(issue(quantity).pk, quantity)],
                            account=retirement_account, option=option).retirement
        Transfer.objects.filter(pk=retirement.transfer_id).update(
            submitted_at=datetime.datetime(year, 6, 1, 12, tzinfo=datetime.UTC))
    page = sign_in(trader, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.goto(page.url + "?tab=retired")
    page.click("#annual-report-link")
    page.wait_for_selector("h1:has-text('Annual retirement report')")
    page.select_option("#id_year", "2024")
    page.click("#report-year button")
    page.wait_for_selector("h1:has-text('Annual retirement report 2024')")
    assert page.locator("#report-total").inner_text().split() == ["Total", "2", "1,500"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, "report")
    with page.expect_download() as download:
        page.click("text=Download CSV")
    assert download.value.suggested_filename == "retirements-2024.csv"
