"""Programs (#29): registry staff create one in the admin; a participant retiring toward it in the
wizard is refused for an old vintage, in the program's words; with and without JavaScript, at a
desktop's and a phone's width, axe-core clean where scripts run."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from certificates.periods import ProductionPeriod
from ledger.models import LedgerEvent
from programs.models import Program
from retirements.models import RetirementOption
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("java_script, width", [(True, 1280), (False, 390)], ids=["js-1280", "nojs-390"])
def test_staff_create_a_program_and_a_participant_is_refused_an_old_vintage_toward_it(
        browser, live_server, sign_in, trader, issue, retirement_account, screenshot, java_script, width):
    staff = UserFactory(email="programs@registry.example", is_staff=True, is_superuser=True)
    context = browser.new_context(java_script_enabled=java_script, viewport={"width": 1280, "height": 900})
    try:
        admin = context.new_page()
        admin.goto(f"{live_server.url}/admin/login/?next=/admin/programs/program/add/")
        admin.fill("input[name=username]", staff.email)
        admin.fill("input[name=password]", "demo")
        admin.click("input[type=submit]")
        admin.fill("input[name=code]", "mn-res-2025")
        admin.fill("input[name=name]", "Minnesota RES 2025")
        admin.select_option("select[name=kind]", "compliance")
        admin.fill("input[name=jurisdiction]", "Minnesota")
        admin.fill("input[name=compliance_year]", "2025")
        admin.fill("input[name=vintage_years_before]", "4")
        for fuel in ("wind", "solar", "hydro"):
            admin.check(f"input[name=fuels][value={fuel}]")
        admin.select_option("select[name=states]", ["MN"])
        admin.fill("textarea[name=note]", "Minn. Stat. 216B.1691")
        screenshot(admin, "admin-add")
        admin.click("input[name=_save]")
        expect(admin.locator(".messagelist")).to_contain_text("Minnesota RES 2025")
        program = Program.objects.get(code="mn-res-2025")
        assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.PROGRAM_CREATED, after__program_id=program.pk).exists()
        admin.goto(f"{live_server.url}/admin/programs/program/{program.pk}/history/")
        expect(admin.locator("#content")).to_contain_text("2021 or later")
        screenshot(admin, "admin-history")
    finally:
        context.close()
    RetirementOption.objects.create(name="Minnesota RES 2025", type=RetirementOption.Type.STATE_RPS,
                                    reason=RetirementOption.Reason.COMPLIANCE, state="MN", program=program)

    old = issue(50, period=ProductionPeriod.month(2019, 1))
    page = sign_in(trader, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/transfers/retire/?batch={old.pk}")
    page.wait_for_selector("[data-step=quantity]")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=destination]")
    page.select_option("select[name=account]", str(retirement_account.pk))
    page.select_option("select[name=option]", label="Minnesota RES 2025")
    page.fill("input[name=compliance_period]", "2025")
    before = LedgerEvent.objects.count()
    page.click("#wizard button:has-text('Next')")
    expect(page.locator("#wizard")).to_contain_text(
        f"{old.serial_number} is vintage 01/2019; Minnesota RES 2025 accepts 2021 or later.")
    assert page.locator("[data-step=destination]").count() == 1 and LedgerEvent.objects.count() == before
    screenshot(page, f"refused-{width}")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if java_script:  # axe-core runs in the page: not where scripts are off
        violations = [violation["id"] for violation in Axe().run(page).response["violations"]
                      if violation["impact"] in {"critical", "serious"}]
        assert violations == []

    # The Active tab offers "Eligible for": the old vintage is not listed for the program.
    page.goto(f"{live_server.url}/certificates/?program=mn-res-2025")
    expect(page.locator("main")).not_to_contain_text(old.serial_number)
    page.goto(f"{live_server.url}/certificates/")
    expect(page.locator("main")).to_contain_text(old.serial_number)
