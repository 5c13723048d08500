"""The annual generator review in a browser: after the deadline a manager signs in to a locked
organization, reads why on the Certificates page, follows its link to the generator still to confirm,
confirms it, and the lock is gone; with JavaScript on and off, at a phone's width, axe clean."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils.html import escape
from playwright.sync_api import expect

from certificates import reviews
from certificates.models import Generator, GeneratorReview
from certificates.periods import registry_zone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
LOCKED = ("Prairie Wind Energy has not confirmed its generators' registrations for 2027 (due 2027-01-31). "
          "A manager can confirm them on the Generators page.")


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_a_locked_organization_s_manager_reads_why_confirms_the_generator_and_the_lock_is_gone(
        sign_in, manager, org, generator, batch, monkeypatch, screenshot, java_script):
    Generator.objects.filter(pk=generator.pk).update(reviewed_at=datetime.datetime(2026, 6, 1, tzinfo=registry_zone()))
    monkeypatch.setattr(reviews, "clock", lambda: datetime.date(2027, 2, 1))  # the live server's thread reads it too
    axe, found = Axe(), {}

    def check(page, name):
        screenshot(page, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        if java_script:  # axe-core runs in the page
            violations = [violation["id"] for violation in axe.run(page).response["violations"]
                          if violation["impact"] in {"critical", "serious"}]
            if violations:
                found[name] = violations

    page = sign_in(manager, java_script_enabled=java_script, viewport=PHONE)
    notice = page.locator("#review-notice")
    expect(notice).to_contain_text("Transfers, retirements and uploads are stopped.")
    expect(notice).to_contain_text(LOCKED)
    expect(page.locator("table")).to_contain_text(batch.certificate.serial_base)  # looking still works
    check(page, "locked-dashboard-390")

    notice.get_by_role("link", name="Review the generators").click()
    expect(page.locator("#to-confirm")).to_contain_text("To confirm for 2027: M805.")
    check(page, "generators-390")
    page.locator("#to-confirm").get_by_role("link", name="M805").click()
    review = page.locator("#annual-review")
    expect(review).to_contain_text("This one’s confirmation for 2027 was due by 2027-01-31")
    check(page, "generator-to-confirm-390")
    review.get_by_role("button", name="Confirm this registration for 2027").click()
    expect(page.locator(".messages")).to_contain_text("Generator M805's registration is confirmed for 2027.")
    expect(page.locator("#annual-review")).to_contain_text("Confirmed for 2027 by")
    check(page, "generator-confirmed-390")
    assert GeneratorReview.objects.filter(generator=generator, year=2027, confirmed_by=manager).exists()

    page.locator("header nav").get_by_role("link", name="Certificates").click()
    expect(page.locator("h1")).to_have_text("Certificates")
    expect(page.locator("#review-notice")).to_have_count(0)
    assert escape(LOCKED) not in page.content()
    assert found == {}
