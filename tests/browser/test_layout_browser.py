"""A phone-sized screen (390 px): no page scrolls sideways, the header stays compact, and the inputs a
page asks for are on screen (issue 17 item 13); with JavaScript on and off."""

import pytest

from registry.models import Membership

from ..factories import MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
HEADER_MOST = 100  # px


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_at_a_phones_width_no_page_scrolls_sideways_and_its_inputs_are_on_screen(every_page, screenshot,
                                                                                  javascript):
    too_wide, header_too_tall, inputs_off_screen = {}, {}, {}

    def measure(page, name):
        screenshot(page, f"{name.replace(' ', '-')}-{'js' if javascript else 'nojs'}")
        if (width := page.evaluate("document.documentElement.scrollWidth")) > PHONE["width"]:
            too_wide[name] = width
        if (height := page.locator("header").bounding_box()["height"]) > HEADER_MOST:
            header_too_tall[name] = height
        # Every field and button of a form is within the screen's width (in a table scrolled
        # sideways, its first column: the dashboard's checkboxes).
        for control in page.locator("main :is(input:not([type=hidden]), select, textarea, button):visible").all():
            box = control.bounding_box()
            if box["x"] < 0 or box["x"] + box["width"] > PHONE["width"]:
                inputs_off_screen.setdefault(name, []).append(control.evaluate("e => e.outerHTML.slice(0, 80)"))

    every_page(measure, viewport=PHONE, java_script_enabled=javascript)
    assert too_wide == {}
    assert header_too_tall == {}
    assert inputs_off_screen == {}


def test_a_member_of_several_organizations_gets_the_same_compact_header(sign_in, trader, holdings, counterparty,
                                                                      screenshot):
    MembershipFactory(user=trader, organization=counterparty, role=Membership.Role.VIEWER)
    page = sign_in(trader, viewport=PHONE)
    screenshot(page, "dashboard")
    assert page.locator("header select[name=organization]").is_visible()
    assert page.locator("header").bounding_box()["height"] <= HEADER_MOST
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
