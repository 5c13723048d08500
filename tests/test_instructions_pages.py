"""The standing instructions pages: list, set (one form, up to three destinations, no JavaScript
needed), one instruction with its runs, end; owner, viewer and outsider; the admin's lift."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from instructions.models import InstructionDestination, StandingInstruction
from instructions.selectors import runs_for_certificate
from instructions.services import DestinationChoice, instruction_create, instructions_run
from ledger.models import LedgerEvent

from .conftest import signed_in_as

Kind = InstructionDestination.Kind


@pytest.fixture
def instruction(org, trader, generator, second_account):
    return instruction_create(organization=org, user=trader, generator=generator,
                              from_vintage=ProductionPeriod.month(2026, 1), percentage=Decimal(60),
                              destinations=[DestinationChoice(kind=Kind.OWN_ACCOUNT, account=second_account)])


def posted(**changes) -> dict:
    data = {"applies_to": "", "from_vintage": "2026-01", "until_vintage": "", "share": "percentage",
            "percentage": "60", "maximum": "", "d1-kind": "organization", "d1-organization": "",
            "d2-kind": "", "d3-kind": ""}
    return {**data, **changes}


def test_a_trader_sets_a_60_percent_transfer_to_another_organization_with_a_fallback(
        trader, org, generator, counterparty, second_account):
    data = posted(**{"applies_to": f"generator:{generator.pk}", "d1-organization": counterparty.public_id,
                     "d2-kind": "own_account", "d2-account": second_account.pk, "irrevocable": "on"})
    response = signed_in_as(trader).post("/instructions/new/", data, follow=True)
    instruction = StandingInstruction.objects.get()
    assert response.redirect_chain[-1][0] == f"/instructions/{instruction.pk}/"
    assert (instruction.generator, instruction.percentage, instruction.irrevocable, instruction.from_vintage) == (
        generator, Decimal(60), True, datetime.date(2026, 1, 1))
    assert [(d.priority, d.kind, d.recipient, d.account) for d in instruction.destinations.all()] == [
        (1, "organization", counterparty, None), (2, "own_account", None, second_account)]
    page = response.content.decode()
    assert f"Standing instruction {instruction.pk} is set" in page
    assert "cannot be ended or changed" in page


def test_a_fuel_instruction_with_a_maximum_that_retires(trader, retirement_account):
    from .factories import RetirementOptionFactory

    option = RetirementOptionFactory()
    data = posted(**{"applies_to": "fuel:solar", "share": "maximum", "percentage": "", "maximum": "500",
                     "d1-kind": "retirement", "d1-retirement_account": retirement_account.pk,
                     "d1-option": option.pk, "d1-compliance_period": "2027"})
    signed_in_as(trader).post("/instructions/new/", data)
    instruction = StandingInstruction.objects.get()
    [destination] = instruction.destinations.all()
    assert (instruction.fuel_type, instruction.maximum) == ("solar", 500)
    assert (destination.retirement_option, destination.compliance_period) == (option, 2027)


@pytest.mark.parametrize("changes, message", [
    ({"applies_to": ""}, "Choose a generator or a fuel type."),
    ({"from_vintage": "13/2026"}, "Enter a month as MM/YYYY"),
    ({"percentage": "100.5"}, "The percentage must be at most 100."),
    ({"percentage": "12.345"}, "at most two decimals"),
    ({"percentage": ""}, "Give the percentage of each issuance."),
    ({"d1-organization": "Nobody at all"}, "No other active organization is registered as"),
    ({"d1-kind": ""}, "Choose where the certificates go."),
    ({"until_vintage": "2025-12"}, "is before the first"),
])
def test_bad_input_is_explained_and_nothing_is_set(trader, generator, counterparty, changes, message):
    data = posted(**{"applies_to": f"generator:{generator.pk}", "d1-organization": counterparty.name, **changes})
    response = signed_in_as(trader).post("/instructions/new/", data)
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not StandingInstruction.objects.exists()


def test_percentages_over_100_are_refused_on_the_page(trader, generator, counterparty, instruction):
    data = posted(**{"applies_to": f"generator:{generator.pk}", "d1-organization": counterparty.name,
                     "percentage": "50"})
    response = signed_in_as(trader).post("/instructions/new/", data)
    assert "they would take 110%" in response.content.decode()
    assert StandingInstruction.objects.count() == 1


def test_the_list_and_the_detail_show_the_instruction_and_its_runs(trader, instruction, staff, generator, account,
                                                                    second_account):
    certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2026, 2),
                                    quantity=1000, account=account)
    [run] = instructions_run(certificate=certificate)
    client = signed_in_as(trader)
    listing = client.get("/instructions/").content.decode()
    assert f"Instruction {instruction.pk}" in listing and "60%" in listing and "M805 Prairie Ridge Wind" in listing
    assert second_account.public_id in listing
    detail = client.get(f"/instructions/{instruction.pk}/").content.decode()
    assert certificate.serial_base in detail and "02/2026" in detail
    assert f'href="/transfers/{run.transfer_id}/"' in detail
    assert "End this instruction" in detail


def test_the_runs_partial_for_an_issuance_page(instruction, staff, generator, account):
    from django.template.loader import render_to_string

    certificate = certificate_issue(user=staff, generator=generator, period=ProductionPeriod.month(2026, 3),
                                    quantity=10, account=account)
    instructions_run(certificate=certificate)
    html = render_to_string("instructions/_runs.html", {"runs": runs_for_certificate(certificate),
                                                        "show_instruction": True})
    assert f"Instruction {instruction.pk}" in html and ">6<" in html


def test_a_trader_ends_an_instruction(trader, instruction):
    client = signed_in_as(trader)
    assert "End instruction" in client.get(f"/instructions/{instruction.pk}/end/").content.decode()
    response = client.post(f"/instructions/{instruction.pk}/end/", follow=True)
    assert "has ended" in response.content.decode()
    assert StandingInstruction.objects.get().status == "ended"


def test_an_irrevocable_instruction_cannot_be_ended_by_its_owner(manager, instruction):
    StandingInstruction.objects.filter(pk=instruction.pk).update(irrevocable=True)
    client = signed_in_as(manager)
    assert "End this instruction" not in client.get(f"/instructions/{instruction.pk}/").content.decode()
    response = client.post(f"/instructions/{instruction.pk}/end/", follow=True)
    assert "is irrevocable: it can be neither ended nor changed" in response.content.decode()
    assert StandingInstruction.objects.get().status == "active"


def test_a_viewer_reads_but_may_not_act(viewer, instruction):
    client = signed_in_as(viewer)
    assert client.get("/instructions/").status_code == 200
    assert client.get(f"/instructions/{instruction.pk}/").status_code == 200
    assert client.get("/instructions/new/").status_code == 403
    assert client.post("/instructions/new/", posted()).status_code == 403
    assert client.post(f"/instructions/{instruction.pk}/end/").status_code == 403
    assert StandingInstruction.objects.get().status == "active"


def test_an_outsider_finds_nothing(outsider, instruction):
    client = signed_in_as(outsider)
    assert client.get(f"/instructions/{instruction.pk}/").status_code == 404
    assert client.post(f"/instructions/{instruction.pk}/end/").status_code == 404
    assert f"Instruction {instruction.pk}" not in client.get("/instructions/").content.decode()


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get("/instructions/").status_code == 302


def test_the_form_offers_only_the_organization_s_own_generators_and_accounts(trader, generator, foreign_batch,
                                                                              second_account, counterparty_account):
    page = signed_in_as(trader).get("/instructions/new/").content.decode()
    assert "M805 Prairie Ridge Wind" in page and "M999" not in page
    assert second_account.public_id in page and counterparty_account.public_id not in page


def test_staff_lift_the_irrevocable_flag_in_the_admin(staff, instruction):
    StandingInstruction.objects.filter(pk=instruction.pk).update(irrevocable=True)
    client = signed_in_as(staff)
    url = reverse("admin:instructions_lift", args=[instruction.pk])
    assert client.post(url, {"note": ""}).status_code == 200  # a reason is required
    assert StandingInstruction.objects.get().irrevocable
    response = client.post(url, {"note": "Both parties agreed."})
    assert response.status_code == 302
    assert not StandingInstruction.objects.get().irrevocable
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.INSTRUCTION_LIFTED)
    assert (event.actor, event.note) == (staff, "Both parties agreed.")


def test_the_owner_cannot_reach_the_admin_lift(manager, instruction):
    StandingInstruction.objects.filter(pk=instruction.pk).update(irrevocable=True)
    response = signed_in_as(manager).post(reverse("admin:instructions_lift", args=[instruction.pk]),
                                          {"note": "Please"})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert StandingInstruction.objects.get().irrevocable


def test_the_activity_log_tells_of_instructions(manager, instruction, trader, org):
    page = signed_in_as(manager).get("/organization/activity/").content.decode()
    assert f"Set standing instruction {instruction.pk}: 60% of each issuance of M805 Prairie Ridge Wind" in page
