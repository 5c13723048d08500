"""A regulator reading the retirements toward its program, and a participant's manager joining a
program and opening its retirement account (issue 29, item 3): JavaScript on and off, at a desktop's
and a phone's width, each page scanned by axe-core."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from programs.models import Program
from programs.participation import participation_invite, program_administrator_add
from programs.services import program_create
from registry.models import Membership, Organization
from registry.services import organization_set_kind
from tests.conftest import retire
from tests.factories import OrganizationFactory, RetirementOptionFactory, member
from transfers.services import TransferLine

from .test_accessibility_browser import IMPACTS_THAT_FAIL, RULES_FIXED

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = [1280, 390]
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])


@pytest.fixture
def program(staff):
    """A compliance program whose rules take any certificate."""
    return program_create(user=staff, fields={"code": "mn-res-2025", "name": "Minnesota RES 2025",
                                              "kind": Program.Kind.COMPLIANCE, "jurisdiction": "Minnesota",
                                              "compliance_year": 2025, "close_date": None}, rules={})


@pytest.fixture
def regulator(staff, program):
    puc = OrganizationFactory(name="Minnesota Public Utilities Commission")
    organization_set_kind(user=staff, organization=puc, kind=Organization.Kind.REGULATOR)
    program_administrator_add(user=staff, program=program, organization=puc)
    return member(puc, Membership.Role.VIEWER, email="regulator@puc.example")


def accessible(page, name: str, javascript: bool) -> None:
    """axe-core finds no critical or serious violation. It runs in the page, so with JavaScript on only
    (its promise never settles in a page without it); the page without JavaScript is the same HTML."""
    if not javascript:
        return
    violations = [(violation["id"], [node["target"] for node in violation["nodes"]])
                  for violation in Axe().run(page).response["violations"]
                  if violation["impact"] in IMPACTS_THAT_FAIL or violation["id"] in RULES_FIXED]
    assert violations == [], name


def fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@JAVASCRIPT
@pytest.mark.parametrize("width", WIDTHS)
def test_a_regulator_reads_the_retirements_toward_its_program(
        sign_in, regulator, program, org, trader, issue, retirement_account, screenshot, javascript, width):
    toward = RetirementOptionFactory(name="Minnesota RES 2025 compliance", program=program)
    counted = retire(organization=org, user=trader, lines=[TransferLine(issue(1200).pk, 1200)],
                     account=retirement_account, option=toward).retirement
    not_counted = retire(organization=org, user=trader, lines=[TransferLine(issue(300).pk, 300)],
                         account=retirement_account).retirement

    page = sign_in(regulator, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.click("nav[aria-label=Portal] >> text=Programs")
    page.wait_for_selector("h2:has-text('Minnesota RES 2025')")
    accessible(page, "programs", javascript)
    fits(page, width)
    screenshot(page, "programs")

    page.click("#program-retirements")
    page.wait_for_selector("#retirements")
    table = page.locator("#retirements").inner_text()
    assert counted.reference in table and "Prairie Wind Energy" in table
    assert not_counted.reference not in table
    accessible(page, "retired", javascript)
    fits(page, width)
    screenshot(page, "retired")

    # The Retired tab's filter, as participants use it: a compliance period that matches nothing.
    page.fill("#filters input[name=compliance_period]", "2019")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#retirements >> text=No retirements match.")
    page.fill("#filters input[name=compliance_period]", "")
    page.click("#filters button[type=submit]")
    page.wait_for_selector(f"#retirements >> text={counted.reference}")

    with page.expect_download() as download:
        page.click("#results a:has-text('Download')")
    csv_text = open(download.value.path(), encoding="utf-8-sig").read()
    assert counted.reference in csv_text and not_counted.reference not in csv_text

    page.click("#annual-report-link")
    page.wait_for_selector("h1:has-text('Annual retirement report')")
    page.wait_for_selector("text=The year’s retirements toward the programs Minnesota Public Utilities Commission "
                           "administers, by the organization that made them")
    page.select_option("#id_year", str(timezone.localdate().year))  # this year's: last year's is the default
    page.click("#report-year button")
    expect(page.locator("#annual-report tbody tr").first).to_contain_text("Prairie Wind Energy")  # retired by
    screenshot(page, "annual-report")
    accessible(page, "annual report", javascript)
    fits(page, width)

    # The reference leads to the public record, not to the participant's transfer.
    page.goto(page.url.split("/transfers/")[0] + "/certificates/?tab=retired")
    page.click(f"#retirements a:has-text('{counted.reference}')")
    page.wait_for_url(f"**/verify/{counted.reference}/")


@JAVASCRIPT
@pytest.mark.parametrize("width", WIDTHS)
def test_a_manager_joins_a_program_and_opens_its_retirement_account(
        sign_in, staff, program, org, manager, screenshot, javascript, width):
    participation_invite(user=staff, program=program, organization=org)
    page = sign_in(manager, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.goto(page.url.replace("/certificates/", "/organization/programs/"))
    accessible(page, "invited", javascript)
    fits(page, width)
    page.click("button:has-text('Join Minnesota RES 2025')")
    page.wait_for_selector("text=Prairie Wind Energy joined Minnesota RES 2025")
    page.fill("input[name=name]", "MN RES 2025 compliance")
    page.click("button:has-text('Open a retirement account for Minnesota RES 2025')")
    page.wait_for_selector("li:has-text('MN RES 2025 compliance')")
    accessible(page, "joined", javascript)
    fits(page, width)
    screenshot(page, "joined")
