"""A link written for another of the reader's organizations (an email's) offers to switch to it,
with JavaScript on and off, at 1280 and 390 px."""

import pytest
from playwright.sync_api import expect

from registry.models import Membership
from transfers.services import Destination, TransferLine, transfer_create

from ..factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_link_for_the_other_organization_switches_to_it(sign_in, live_server, trader, org, counterparty,
                                                         counterparty_trader, foreign_batch, screenshot,
                                                         javascript, width):
    Membership.objects.create(user=trader, organization=counterparty, role=Membership.Role.VIEWER)
    internal = transfer_create(organization=counterparty, user=counterparty_trader,
                               lines=[TransferLine(foreign_batch.pk, 5)],
                               destination=Destination.internal(AccountFactory(organization=counterparty)))
    page = sign_in(trader, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.select_option("select[name=organization]", str(org.pk))
    page.click("header button:has-text('Switch')")
    # Sign-in already landed on /certificates/, so the URL alone does not show that the switch is done.
    expect(page.locator("header .org")).to_contain_text(org.public_id)
    page.goto(f"{live_server.url}/transfers/{internal.pk}/?organization={counterparty.public_id}")
    assert page.locator("h1").inner_text() == "This link is for Lakeshore Power Cooperative"
    screenshot(page, "offer")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.click("button:has-text('Switch to Lakeshore Power Cooperative and go on')")
    page.wait_for_url(f"{live_server.url}/transfers/{internal.pk}/")
    assert counterparty.public_id in page.locator("header .org").inner_text()
