"""Setting a standing instruction in the browser, with and without JavaScript, and what it does
with the next issuance; screenshots of the pages at a desktop's and a phone's width."""

import os
from decimal import Decimal
from pathlib import Path

import pytest

from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from instructions.models import StandingInstruction
from instructions.services import instructions_run
from transfers.models import Transfer

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("SHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@pytest.mark.parametrize("javascript", [True, False])
def test_a_manager_sets_a_60_percent_transfer_and_it_lands_pending_at_the_recipient(
        sign_in, live_server, manager, org, generator, account, second_account, counterparty, staff, javascript):
    page = sign_in(manager, java_script_enabled=javascript, viewport={"width": 1280, "height": 900})
    page.click("nav >> text=Instructions")
    page.click("text=Set a standing instruction")
    page.select_option("select[name=applies_to]", f"generator:{generator.pk}")
    page.fill("input[name=from_vintage]", "2026-01")
    page.check("input[name=share][value=percentage]")
    page.fill("input[name=percentage]", "60")
    page.check("input[name=d1-kind][value=organization]")
    page.fill("input[name=d1-organization]", counterparty.public_id)
    page.check("input[name=d2-kind][value=own_account]")
    page.select_option("select[name=d2-account]", str(second_account.pk))
    if javascript:  # the other kinds' fields are out of the way once a kind is chosen
        assert not page.is_visible("select[name=d1-account]")
        assert page.is_visible("input[name=d1-organization]")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"new-{'js' if javascript else 'nojs'}-1280.png"), full_page=True)
    page.click("button:has-text('Set the instruction')")
    page.wait_for_selector("text=is set")
    instruction = StandingInstruction.objects.get()
    assert (instruction.percentage, instruction.generator) == (Decimal(60), generator)

    certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2026, 1),
                                    quantity=1000, account=account)
    [run] = instructions_run(certificate=certificate)
    assert (run.transfer.status, run.transfer.recipient_organization, run.quantity_moved) == (
        Transfer.Status.PENDING, counterparty, 600)
    page.reload()
    assert page.is_visible(f"text=Transfer {run.transfer_id}")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"detail-{'js' if javascript else 'nojs'}-{width}.png"), full_page=True)
        page.goto(f"{live_server.url}/instructions/")
        page.screenshot(path=str(SHOTS / f"list-{'js' if javascript else 'nojs'}-{width}.png"), full_page=True)
        page.goto(f"{live_server.url}/instructions/new/")
        page.screenshot(path=str(SHOTS / f"new-{'js' if javascript else 'nojs'}-{width}-empty.png"), full_page=True)
        page.goto(f"{live_server.url}/instructions/{instruction.pk}/")
