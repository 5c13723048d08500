"""A viewer in the browser (issue 17 item 5): told what the role allows, offered nothing it does not
allow, and a page it may not open (or one that is not there) is the portal's own, with a way back."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_viewer_is_told_what_the_role_allows_and_finds_no_dead_end(sign_in, live_server, viewer, holdings,
                                                                      screenshot, javascript, width):
    page = sign_in(viewer, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    expect(page.locator("main")).to_contain_text(
        "Your role (viewer) can see and download certificates; a manager or trader can transfer them.")
    expect(page.locator("#batches")).to_contain_text(holdings["wind"].serial_number)
    assert page.locator("#batches input[type=checkbox], #transfer-button, main a:text-is('Upload')").count() == 0
    screenshot(page, "dashboard")

    page.click("header a:text-is('Mass transfers')")
    expect(page.locator("main")).to_contain_text("a manager or trader can upload mass transfers.")
    assert page.locator("input[type=file]").count() == 0

    response = page.goto(f"{live_server.url}/transfers/new/")  # typed in, or an old link
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("You cannot do this")
    expect(page.locator("main")).to_contain_text("a manager or trader can transfer, accept, reject or withdraw them")
    assert page.evaluate("getComputedStyle(document.querySelector('.card')).backgroundColor") == "rgb(255, 255, 255)"
    screenshot(page, "403")
    page.click("text=Back to your certificates")
    page.wait_for_url(f"{live_server.url}/certificates/")

    response = page.goto(f"{live_server.url}/transfers/999999/")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    expect(page.locator("header")).to_contain_text(viewer.memberships.get().organization.public_id)
    screenshot(page, "404")

    page.click("button:text-is('Sign out')")
    response = page.goto(f"{live_server.url}/no/such/page/")
    assert response.status == 404
    expect(page.locator("main")).to_contain_text("There is no page at /no/such/page/.")
    screenshot(page, "404-signed-out")
    page.click("main a:text-is('Sign in')")
    page.wait_for_url(f"{live_server.url}/login/")
