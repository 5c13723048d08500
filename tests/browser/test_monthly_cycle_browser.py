"""The registry's month, end to end in the browser: a manager registers a generator, registry staff
approve it, the manager sets a standing 60% transfer to a buyer, the owner uploads the month's
generation, staff issue it, and the 60% lands pending at the buyer, waiting for it to accept."""

import pytest
from playwright.sync_api import expect

from certificates.models import Generator
from instructions.models import InstructionRun
from transfers.models import Transfer

from ..factories import UserFactory
from ..generation import last_month

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_page(browser, live_server, staff, java_script):
    context = browser.new_context(java_script_enabled=java_script, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", staff.email)
    page.fill("input[name=password]", "demo")
    page.click("input[type=submit]")
    return page


@pytest.mark.parametrize("java_script, width", [(True, 1280), (False, 390)], ids=["js-1280", "nojs-390"])
def test_register_approve_upload_issue_and_the_standing_60_percent_lands_pending_at_the_buyer(
        browser, sign_in, live_server, manager, org, account, counterparty, counterparty_trader, mass_media,
        tmp_path, screenshot, java_script, width):
    month = last_month(1)
    page = sign_in(manager, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    staff = UserFactory(email="issuer@registry.example", is_staff=True, is_superuser=True)

    # The manager registers the generator and submits it.
    page.goto(f"{live_server.url}/generators/new/")
    page.get_by_label("Name").fill("Blue Earth Wind")
    page.get_by_label("Fuel type").select_option("wind")
    page.get_by_label("Technology").select_option("onshore_wind")
    page.get_by_label("Capacity (MW)").fill("120.5")
    page.get_by_label("State or province").select_option("MN")
    page.get_by_label("Commercial operation date").fill("2019-11-01")
    page.get_by_label("Issuance account").select_option(str(account.pk))
    page.get_by_role("button", name="Register generator").click()
    page.get_by_role("button", name="Submit for approval").click()
    generator = Generator.objects.get(organization=org)
    expect(page.locator(".messages")).to_contain_text(f"Generator {generator.code} is submitted for approval.")

    # Registry staff approve it from the admin site's queue.
    admin = staff_page(browser, live_server, staff, java_script)
    admin.get_by_role("link", name="1 generator awaiting approval").click()
    admin.locator("#result_list tr", has_text=generator.code).locator("input[name=_selected_action]").check()
    admin.select_option("select[name=action]", "approve")
    admin.click("button[name=index]")
    expect(admin.locator(".messagelist")).to_contain_text("1 generator approved.")

    # The manager sets a standing 60% transfer of the generator's issuances to the buyer.
    page.goto(f"{live_server.url}/instructions/new/")
    page.select_option("select[name=applies_to]", f"generator:{generator.pk}")
    page.fill("input[name=from_vintage]", f"{month:%Y-%m}")
    page.check("input[name=share][value=percentage]")
    page.fill("input[name=percentage]", "60")
    page.check("input[name=d1-kind][value=organization]")
    page.fill("input[name=d1-organization]", counterparty.public_id)
    page.click("button:has-text('Set the instruction')")
    expect(page.locator("main")).to_contain_text("is set")

    # The owner uploads the month's generation: 1,000.6 MWh.
    page.goto(f"{live_server.url}/generation/uploads/")
    upload = tmp_path / "generation.csv"
    upload.write_text(f"Generator ID,Month,MWh\r\n{generator.code},{month:%m/%Y},1000.6\r\n")
    page.set_input_files("input[type=file]", str(upload))
    page.click("button:has-text('Upload')")
    expect(page.locator("#upload-status")).to_have_attribute("data-status", "completed", timeout=30_000)

    # Staff issue the month in one action.
    admin.goto(f"{live_server.url}/admin/issuance/generationreport/")
    admin.check("#action-toggle") if java_script else admin.locator("input[name=_selected_action]").check()
    admin.select_option("select[name=action]", "issue_months")
    admin.click("button[name=index]")
    admin.click("input[type=submit][value^='Issue']")
    expect(admin.locator(".messagelist")).to_contain_text("Issued 1 generator-month: 1,000 certificates.")
    admin.context.close()

    # The owner sees what was issued and what the instruction did with it: 600 sent, 400 kept.
    page.goto(f"{live_server.url}/generation/")
    page.locator("#reports a[href^='/generation/issuances/']").first.click()
    expect(page.locator("#instructions")).to_contain_text("600")
    screenshot(page, f"issuance-{width}")
    [run] = InstructionRun.objects.all()
    transfer = run.transfer
    assert (transfer.status, transfer.recipient_organization, run.quantity_moved) == (
        Transfer.Status.PENDING, counterparty, 600)
    assert sum(item.batch.quantity for item in transfer.items.select_related("batch")) == 600

    # The buyer finds it waiting for them, to accept or reject.
    buyer = sign_in(counterparty_trader, java_script_enabled=java_script, viewport={"width": width, "height": 900})
    buyer.goto(f"{live_server.url}/certificates/?tab=pending")
    incoming = buyer.locator("tr", has_text=f"{transfer.pk}")
    expect(incoming.first).to_contain_text("600")
    screenshot(buyer, f"buyer-pending-{width}")
