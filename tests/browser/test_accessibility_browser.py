"""axe-core (the copy shipped by axe-playwright-python, nothing fetched) on every page a participant
can reach, at a desktop and a phone's width (issue 17 item 14)."""

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Any critical or serious violation fails, and so do the minor ones issue 17 found, once fixed.
IMPACTS_THAT_FAIL = {"critical", "serious"}
RULES_FIXED = {"empty-table-header", "landmark-unique"}


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_has_a_critical_or_serious_accessibility_violation(every_page, screenshot, width):
    axe = Axe()
    found = {}

    def scan(page, name):
        screenshot(page, name.replace(" ", "-"))
        violations = [violation for violation in axe.run(page).response["violations"]
                      if violation["impact"] in IMPACTS_THAT_FAIL or violation["id"] in RULES_FIXED]
        if violations:
            found[name] = [(violation["id"], violation["impact"], [node["target"] for node in violation["nodes"]])
                           for violation in violations]

    every_page(scan, viewport={"width": width, "height": 900})
    assert found == {}
