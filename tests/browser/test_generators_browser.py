"""A manager registers a generator and submits it, registry staff approve it in the admin site's queue, and
the manager sees it approved; with JavaScript on and off, at a desktop's and a phone's width."""

import pytest
from playwright.sync_api import expect

from certificates.models import Generator

from ..factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_manager_registers_and_submits_a_generator_staff_approve_it_and_the_manager_sees_it_approved(
        browser, sign_in, live_server, manager, org, account, screenshot, java_script):
    page = sign_in(manager, java_script_enabled=java_script)
    page.locator("header nav").get_by_role("link", name="Generators").click()
    expect(page.locator("main")).to_contain_text("Your organization has no generators yet.")
    page.get_by_role("link", name="Register a generator").click()
    page.get_by_label("Name").fill("Blue Earth Wind")
    page.get_by_label("Fuel type").select_option("wind")
    page.get_by_label("Technology").select_option("onshore_wind")
    page.get_by_label("Capacity (MW)").fill("0")
    page.get_by_label("State or province").select_option("MN")
    page.get_by_label("Commercial operation date").fill("2019-11-01")
    page.get_by_label("Eligibilities claimed").fill("MN RES, Green-e")
    page.get_by_label("Issuance account").select_option(str(account.pk))
    page.get_by_role("button", name="Register generator").click()
    expect(page.locator("main")).to_contain_text("The capacity must be more than 0 MW.")  # nothing saved, fields kept
    expect(page.get_by_label("Name")).to_have_value("Blue Earth Wind")
    screenshot(page, "register-error")
    page.get_by_label("Capacity (MW)").fill("120.5")
    page.get_by_role("button", name="Register generator").click()
    generator = Generator.objects.get(organization=org)
    expect(page.locator(".messages")).to_contain_text(f"Generator {generator.code}, Blue Earth Wind, is registered "
                                                      "as a draft.")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page.locator(".messages")).to_contain_text(f"Generator {generator.code} is submitted for approval.")
    expect(page.locator("main")).to_contain_text("Waiting for registry staff’s decision")
    screenshot(page, "submitted")

    staff = UserFactory(email="reviewer@registry.example", is_staff=True, is_superuser=True)
    admin_context = browser.new_context(java_script_enabled=java_script)
    try:
        admin = admin_context.new_page()
        admin.goto(f"{live_server.url}/admin/login/?next=/admin/")
        admin.fill("input[name=username]", staff.email)
        admin.fill("input[name=password]", "demo")
        admin.click("input[type=submit]")
        admin.get_by_role("link", name="1 generator awaiting approval").click()
        row = admin.locator("#result_list tr", has_text=generator.code)
        row.locator("input[name=_selected_action]").check()
        admin.select_option("select[name=action]", "approve")
        admin.click("button[name=index]")
        expect(admin.locator(".messagelist")).to_contain_text("1 generator approved.")
        screenshot(admin, "admin-approved")
    finally:
        admin_context.close()

    page.reload()
    expect(page.locator("#status-heading")).to_contain_text("Approved")
    page.locator("header nav").get_by_role("link", name="Generators").click()
    row = page.locator("table.generators tbody tr", has_text=generator.code)
    expect(row).to_contain_text("Approved")
    expect(row).to_contain_text(account.public_id)
    screenshot(page, "list-1280")
    page.set_viewport_size(PHONE)
    screenshot(page, "list-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name=generator.code).click()
    screenshot(page, "detail-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.get_by_role("link", name=f"Change generator {generator.code}").click()
    screenshot(page, "form-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
