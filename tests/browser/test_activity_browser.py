"""The activity log in a browser: its filter narrows the list in place with JavaScript (the address
keeps the filter) and as a plain form without; the pages' links work both ways."""

import pytest

from registry.services import invitation_create
from registry.views import ACTIVITY_PAGE_SIZE

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def busy_log(org, manager, batch):
    """An issuance and more invitations than a page holds."""
    for number in range(ACTIVITY_PAGE_SIZE + 3):
        invitation_create(organization=org, invited_by=manager, email=f"p{number}@prairiewind.example", role="viewer")


@pytest.mark.parametrize("javascript", [True, False])
@pytest.mark.parametrize("width", [1280, 390])
def test_filter_and_pages_of_the_activity_log(sign_in, live_server, busy_log, viewer, screenshot, javascript, width):
    page = sign_in(viewer, java_script_enabled=javascript, viewport={"width": width, "height": 900})
    page.click("header a:text-is('Organization')")  # a viewer's: the activity page
    page.wait_for_url(f"{live_server.url}/organization/activity/")
    assert page.locator("#totals").inner_text() == f"{ACTIVITY_PAGE_SIZE + 4} events"
    screenshot(page, "log")
    page.click("nav.pagination a:has-text('Next')")
    page.wait_for_url("**page=2")
    assert page.locator("#activity tbody tr").count() == 4
    page.select_option("select[name=kind]", "issuance")
    if not javascript:
        page.click("#filters button:has-text('Filter')")
    page.wait_for_url("**kind=issuance**")
    page.wait_for_function("document.querySelectorAll('#activity tbody tr').length === 1")
    assert "Registry staff" in page.locator("#activity tbody").inner_text()
    page.fill("input[name=occurred_from]", "2999-01-01")
    if not javascript:
        page.click("#filters button:has-text('Filter')")
    page.wait_for_selector("text=No activity matches.")
    screenshot(page, "filtered")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
