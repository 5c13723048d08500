import pytest
from django.contrib.sessions.backends.db import SessionStore
from playwright.sync_api import expect

from registry.sessions import ACTIVE_AT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_htmx_filter_on_an_idle_session_takes_the_browser_to_sign_in(sign_in, trader, holdings, screenshot,
                                                                         live_server):
    page = sign_in(trader)
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    session = SessionStore(cookie["value"])
    session[ACTIVE_AT] -= 31 * 60  # half an hour and more without a request
    session.save()

    page.fill("input[name=vintage_from]", "01/2020")
    page.press("input[name=vintage_from]", "Enter")  # the filter is an htmx request
    page.wait_for_url(f"{live_server.url}/login/?next=/certificates/")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator(".messages")).to_have_text("You were signed out after 30 minutes without activity.")
    assert page.locator("#batches").count() == 0  # a whole page, not the sign-in page inside the dashboard
    screenshot(page, "signed-out")

    page.fill("input[name=username]", trader.email)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/certificates/")  # back where the user was
