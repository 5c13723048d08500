"""A generator's page lists its recorded eligibilities, the expired and the not yet valid marked; with
JavaScript on and off, at a phone's width, axe clean."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from certificates.models import GeneratorEligibility

from ..factories import GeneratorFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_the_generator_page_shows_its_eligibilities_expired_and_not_yet_valid_marked(
        sign_in, live_server, trader, org, account, screenshot, java_script):
    today = timezone.localdate()
    generator = GeneratorFactory(organization=org, code="M870", name="Blue Earth Wind", account=account,
                                 eligibilities=["MN RES", "Green-e", "WI RPS"], recorded=False)
    for name, start, through, number in [
            ("MN RES", datetime.date(2019, 11, 1), None, "E-002/19-1234"),
            ("Green-e", datetime.date(2019, 11, 1), today - datetime.timedelta(days=1), "GE-55120"),
            ("WI RPS", today + datetime.timedelta(days=10), None, "")]:
        GeneratorEligibility.objects.create(generator=generator, name=name, start_date=start, good_through=through,
                                            certification_number=number)

    page = sign_in(trader, java_script_enabled=java_script, viewport=PHONE)
    page.goto(f"{live_server.url}/generators/{generator.pk}/")

    rows = page.locator("table.eligibilities tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("E-002/19-1234")
    expect(rows.nth(0)).to_contain_text("In force")
    expect(rows.nth(1)).to_contain_text(f"Expired on {today - datetime.timedelta(days=1):%Y-%m-%d}")
    expect(rows.nth(2)).to_contain_text(f"Valid from {today + datetime.timedelta(days=10):%Y-%m-%d}")
    screenshot(page, "eligibilities-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if java_script:  # axe-core runs in the page: not where scripts are off
        violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                      for violation in Axe().run(page).response["violations"]
                      if violation["impact"] in {"critical", "serious"}]
        assert violations == []
