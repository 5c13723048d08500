import pytest
from playwright.sync_api import expect

from certificates.models import CertificateBatch
from transfers.models import Transfer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose_batch(page, serial_number):
    page.locator("#batches tr", has_text=serial_number).locator("input[type=checkbox]").check()
    page.wait_for_selector("[data-selection-count='1']")
    page.evaluate("window.notReloaded = true")
    page.click("#transfer-button")
    page.wait_for_selector("[data-step=quantity]")
    # The boosted link: step 1 swapped in by htmx (no page load), with its address and title.
    assert page.evaluate("window.notReloaded") is True
    assert page.url.endswith("/quantity/") and page.title().startswith("Transfer certificates")


def walk(page, screenshot, quantity, fill_destination, label):
    page.evaluate("window.notReloaded = true")
    page.locator("#wizard input[type=number]").fill(str(quantity))
    screenshot(page, f"{label}-1-quantity")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=destination]")
    assert page.url.endswith("/destination/")
    fill_destination(page)
    page.fill("textarea[name=notes]", f"Browser test {label}")
    screenshot(page, f"{label}-2-destination")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=review]")
    screenshot(page, f"{label}-3-review")
    page.click("#wizard a:has-text('Review')")
    page.wait_for_selector("[data-step=confirm]")
    screenshot(page, f"{label}-4-confirm")
    page.click("#wizard button:has-text('Transfer')")
    page.wait_for_selector("text=Download a transaction summary")
    assert page.evaluate("window.notReloaded") is True  # every step swapped in by htmx
    screenshot(page, f"{label}-5-done")
    return Transfer.objects.exclude(status="draft").latest("pk")


def test_three_destination_types_and_the_recipient_accepts(
        browser, sign_in, trader, holdings, second_account, counterparty, counterparty_trader,
        counterparty_account, tracking_system, screenshot):
    page = sign_in(trader)

    choose_batch(page, holdings["wind"].serial_number)

    def internal(page):
        page.check("input[name=kind][value=internal]")
        page.select_option("select[name=account]", str(second_account.pk))

    transfer = walk(page, screenshot, 250, internal, "internal")
    assert (transfer.kind, transfer.status) == ("internal", "complete")
    assert transfer.items.get().batch.account == second_account

    page.goto(page.url.split("/transfers/")[0] + "/certificates/")
    choose_batch(page, holdings["solar"].serial_number)

    def to_organization(page):
        page.check("input[name=kind][value=organization]")
        page.fill("#id_organization", "Lakes")
        expect(page.locator("#organization-options option")).to_have_count(1)
        value = page.locator("#organization-options option").first.get_attribute("value")
        assert counterparty.public_id in value
        page.fill("#id_organization", value)

    pending = walk(page, screenshot, 100, to_organization, "organization")
    assert (pending.kind, pending.status, pending.recipient_organization) == ("organization", "pending", counterparty)
    assert "until Lakeshore Power Cooperative accepts it" in page.inner_text("#wizard")

    page.goto(page.url.split("/transfers/")[0] + "/certificates/")
    choose_batch(page, holdings["hydro"].serial_number)

    def export(page):
        page.check("input[name=kind][value=export]")
        page.select_option("select[name=tracking_system]", str(tracking_system.pk))
        page.fill("input[name=recipient_name]", "Cascade Utility")
        page.fill("input[name=recipient_account_ref]", "W-1234")

    exported = walk(page, screenshot, 200, export, "export")
    assert (exported.kind, exported.status, exported.recipient_account_ref) == ("export", "pending", "W-1234")

    # The recipient, in a second browser context, accepts the pending transfer.
    recipient = sign_in(counterparty_trader)
    recipient.click("text=Pending")
    recipient.wait_for_selector(".pending-incoming")
    recipient.locator(".pending-incoming tr", has_text=f"Transfer {pending.pk}").locator("text=Accept").click()
    recipient.select_option("select[name=account]", str(counterparty_account.pk))
    screenshot(recipient, "recipient-accept")
    recipient.click("button:has-text('Accept')")
    recipient.wait_for_selector(f"text=Transfer {pending.pk} accepted into {counterparty_account.public_id}")
    recipient.click("text=Certificates")
    arrived = CertificateBatch.objects.get(account=counterparty_account)
    assert arrived.quantity == 100
    assert arrived.serial_number in recipient.inner_text("#batches")
    screenshot(recipient, "recipient-dashboard")


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_step_two_offers_only_the_accounts_that_can_receive_the_batch(
        sign_in, live_server, trader, batch, account, second_account, screenshot, javascript):
    """The batch is in Main active: step 2 offers Trading only, and the transfer goes there."""
    page = sign_in(trader, java_script_enabled=javascript)
    if javascript:
        choose_batch(page, batch.serial_number)
        page.evaluate("window.notReloaded = true")
    else:
        page.goto(f"{live_server.url}/transfers/new/?batch={batch.pk}")
    page.wait_for_selector("[data-step=quantity]")
    page.locator("#wizard input[type=number]").fill("250")
    screenshot(page, "1-quantity")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=destination]")
    assert page.url.endswith("/destination/")
    offered = page.locator("select[name=account] option").all_inner_texts()
    assert offered == ["Choose an account", str(second_account)]  # not Main active, where the batch is
    page.check("input[name=kind][value=internal]")
    page.select_option("select[name=account]", str(second_account.pk))
    screenshot(page, "2-destination")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=review]")
    assert str(second_account) in page.inner_text("#wizard dl")
    screenshot(page, "3-review")
    page.click("#wizard a:has-text('Review')")
    page.wait_for_selector("[data-step=confirm]")
    screenshot(page, "4-confirm")
    page.click("#wizard button:has-text('Transfer')")
    page.wait_for_selector("text=Download a transaction summary")
    screenshot(page, "5-done")
    if javascript:
        assert page.evaluate("window.notReloaded") is True  # every step swapped in by htmx
    transfer = Transfer.objects.exclude(status="draft").get()
    assert (transfer.status, transfer.items.get().batch.account, transfer.items.get().batch.quantity) == (
        "complete", second_account, 250)


def test_a_refusal_met_in_the_middle_of_the_wizard_is_shown(browser, sign_in, trader, org, holdings):
    """htmx swaps no error response by itself: a 403 (the role changed since step 1) must still
    reach the user, as the portal's whole 403 page, not leave the Next button doing nothing."""
    from registry.models import Membership

    page = sign_in(trader)
    choose_batch(page, holdings["wind"].serial_number)
    Membership.objects.filter(user=trader, organization=org).update(role=Membership.Role.VIEWER)
    page.click("#wizard button:has-text('Next')")
    expect(page.locator("h1")).to_have_text("You cannot do this")
    expect(page.locator("main")).to_contain_text(
        "Your role (viewer) can see and download certificates; a manager or trader can transfer")
    expect(page.locator("header.topbar")).to_have_count(1)  # the page replaced, not nested in the old one


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_wizard_says_where_the_certificates_come_from_and_what_will_happen(
        sign_in, live_server, trader, holdings, account, second_account, counterparty, screenshot, javascript, width):
    """Wind is in Main active, hydro in Trading, the organization's only two active accounts: step 2
    offers neither and says why; steps 1, 3 and 4 name both; step 3 lists the serial numbers that
    leave and stay, step 4 says what will happen and has the button."""
    wind, hydro = holdings["wind"], holdings["hydro"]
    main, trading = str(account), str(second_account)
    page = sign_in(trader, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.goto(f"{live_server.url}/transfers/new/?batch={wind.pk}&batch={hydro.pk}")
    page.wait_for_selector("[data-step=quantity]")
    if javascript:
        page.evaluate("window.notReloaded = true")
    expect(page.locator("table.quantities tr", has_text=wind.serial_number)).to_contain_text(main)
    expect(page.locator("table.quantities tr", has_text=hydro.serial_number)).to_contain_text(trading)
    page.locator(f"input[name=quantity_{wind.pk}]").fill("300")
    screenshot(page, "1-quantity")
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=destination]")
    page.check("input[name=kind][value=internal]")
    assert page.locator("select[name=account] option").all_inner_texts() == ["Choose an account"]
    hint = page.locator("#id_account_not_offered")
    expect(hint).to_have_text(f"{main} and {trading} are not offered: the certificates come from them. "
                              "Your organization has no other open active account; a manager can open one on "
                              "the Accounts page.")
    expect(hint).to_be_visible()
    assert page.get_attribute("select[name=account]", "aria-describedby") == "id_account_not_offered"
    screenshot(page, "2-destination")
    page.check("input[name=kind][value=organization]")
    page.fill("#id_organization", counterparty.public_id)
    page.click("#wizard button:has-text('Next')")
    page.wait_for_selector("[data-step=review]")
    review = page.inner_text("#wizard section")
    assert f"From\n{main}, {trading}" in review.replace("\t", "\n").replace("\n\n", "\n")
    expect(page.locator("table.review tr", has_text=wind.serial_number)).to_contain_text(main)
    expect(page.locator("table.review tr", has_text=hydro.serial_number)).to_contain_text(trading)
    base = wind.certificate.serial_base
    assert f"{base}-1 to 300" in review and f"{base}-301 to 1000" in review  # leaves, stays
    assert page.locator("#wizard form").count() == 0  # nothing to confirm here
    screenshot(page, "3-review")
    page.click("#wizard a:has-text('Review')")
    page.wait_for_selector("[data-step=confirm]")
    confirm = page.inner_text("#wizard section")
    assert (f"When you select “Transfer”, 500 certificates in 2 batches leave {main} and {trading} and wait, "
            f"pending, for {counterparty.name} ({counterparty.public_id}) to accept them.") in confirm
    assert f"returns the certificates to {main} and {trading}" in confirm
    assert f"{base}-301 to 1000" not in confirm and "When you select" not in review  # two different steps
    screenshot(page, "4-confirm")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.click("#wizard button:has-text('Transfer')")
    page.wait_for_selector("text=Download a transaction summary")
    if javascript:
        assert page.evaluate("window.notReloaded") is True  # every step swapped in by htmx
    transfer = Transfer.objects.exclude(status="draft").get()
    assert (transfer.kind, transfer.status, transfer.recipient_organization) == ("organization", "pending",
                                                                                  counterparty)
