"""The verification page's own check of a retirement's inclusion proof in the browser (WebCrypto),
and the same page without JavaScript: the server's check and the data to redo it."""

import pytest

from events.services import events_consume
from publiclog.services import CONSUMER, checkpoint_sign
from tests.conftest import retire
from transfers.services import TransferLine

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_the_verification_page_checks_the_proof_in_the_browser(browser, live_server, org, trader, issue,
                                                               retirement_account, screenshot, no_wakeups,
                                                               javascript):
    retirements = [retire(organization=org, user=trader, account=retirement_account, beneficiary="Duluth",
                          lines=[TransferLine(issue(1).pk, 1)]).retirement for _ in range(5)]
    events_consume(consumer=CONSUMER)
    checkpoint_sign()
    context = browser.new_context(java_script_enabled=javascript, viewport={"width": 390, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server.url}/verify/{retirements[3].reference}/")
    assert "In the public log at index 3" in page.inner_text("#public-log")
    assert "The registry checked this inclusion proof" in page.inner_text("#public-log")
    assert page.locator("#log-proof li").count() == 3  # leaf 3 of 5: two siblings and the right edge
    if javascript:
        check = page.wait_for_selector("#log-browser-check:not([hidden])")
        assert check.get_attribute("data-included") == "true"
        assert "Your browser checked the proof too" in check.inner_text()
        assert check.get_attribute("data-signed") in ("true", "null")  # Ed25519 where this Chromium has it
        if check.get_attribute("data-signed") == "true":
            assert "checked the checkpoint's signature" in check.inner_text()
    else:
        assert not page.locator("#log-browser-check").is_visible()
    screenshot(page, "verification-log")
    context.close()
