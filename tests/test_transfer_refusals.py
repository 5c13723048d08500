"""Every refusal of a transfer service names the field it concerns (transfers.values), in the
services' own vocabulary: the API answers with these keys, the pages with the plain message."""

import pytest

from accounts.models import Account
from instructions.forms import DestinationForm as InstructionDestinationForm
from instructions.models import InstructionDestination
from instructions.services import DestinationChoice, InstructionRefused, instruction_create
from registry.services import organization_set_status
from retirements.services import RetirementDetails, retirement_create
from transfers.forms import DestinationForm
from transfers.models import Transfer
from transfers.selectors import transfer_decisions
from transfers.services import (
    Destination,
    NotPending,
    NotYourDecision,
    TransferLine,
    TransferRefused,
    transfer_accept,
    transfer_create,
    transfer_withdraw,
)

from .conftest import send
from .factories import AccountFactory, TrackingSystemFactory


def problems_of(call) -> dict[str, str]:
    with pytest.raises(TransferRefused) as refused:
        call()
    assert str(refused.value) == " ".join(refused.value.problems.values())
    return refused.value.problems


def test_a_refusal_of_one_message_is_that_message():
    refusal = TransferRefused("Choose the type of transfer.", field="destination")
    assert (str(refusal), refusal.problems) == ("Choose the type of transfer.",
                                                {"destination": "Choose the type of transfer."})
    assert TransferRefused("This transfer has not expired yet.").problems == {
        "__all__": "This transfer has not expired yet."}


def test_no_lines_concern_the_lines(org, trader, second_account):
    assert problems_of(lambda: transfer_create(organization=org, user=trader, lines=[],
                                               destination=Destination.internal(second_account))) == {
        "lines": "Select at least one batch to transfer."}


def test_a_line_is_named_by_its_index_in_the_call(issue, org, trader, second_account):
    first, second = issue(10), issue(10)
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=[TransferLine(second.pk, 1), TransferLine(first.pk, 0)],
        destination=Destination.internal(second_account)))) == ["lines.1.quantity"]
    # The service takes the lines in batch order; the key still names the line's place in the call.
    assert problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=[TransferLine(second.pk, 1), TransferLine(first.pk, 11)],
        destination=Destination.internal(second_account))) == {
        "lines.1.quantity": f"Quantity 11 is more than batch {first.serial_number} holds (10)."}
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=[TransferLine(second.pk, 1), TransferLine(second.pk, 2)],
        destination=Destination.internal(second_account)))) == ["lines.1.batch"]


def test_a_batch_the_organization_does_not_hold_concerns_its_line(foreign_batch, batch, org, trader, second_account):
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=[TransferLine(batch.pk, 1), TransferLine(foreign_batch.pk, 1)],
        destination=Destination.internal(second_account)))) == ["lines.1.batch"]


def test_each_part_of_a_destination_is_its_own_field(batch, org, trader, counterparty):
    line = [TransferLine(batch.pk, 1)]
    other_account = AccountFactory(organization=counterparty)
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=line, destination=Destination.internal(other_account)))) == [
        "destination.account"]
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=line, destination=Destination.to_organization(org)))) == [
        "destination.organization"]
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=line,
        destination=Destination.export(TrackingSystemFactory(code="GATS", is_active=False), "Ann")))) == [
        "destination.tracking_system"]
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=line,
        destination=Destination.export(TrackingSystemFactory(), "  ")))) == ["destination.recipient_name"]
    assert list(problems_of(lambda: transfer_create(
        organization=org, user=trader, lines=line, destination=Destination(kind="elsewhere")))) == ["destination"]


def test_every_problem_of_a_retirements_details_is_named(batch, org, trader, retirement_account):
    problems = problems_of(lambda: retirement_create(
        organization=org, user=trader, lines=[TransferLine(batch.pk, 1)], account=retirement_account,
        details=RetirementDetails(option=None, compliance_period=1900)))
    assert list(problems) == ["retirement.option", "retirement.compliance_period"]


def test_an_acceptance_into_another_organizations_account_concerns_the_account(
        batch, org, trader, counterparty, counterparty_trader):
    transfer = send(batch, trader, org, counterparty)
    assert list(problems_of(lambda: transfer_accept(
        transfer=transfer, user=counterparty_trader, organization=counterparty,
        account=AccountFactory(organization=org)))) == ["account"]


def test_a_decision_already_made_concerns_the_whole_request(batch, org, trader, counterparty):
    transfer = send(batch, trader, org, counterparty)
    transfer_withdraw(transfer=transfer, user=trader, organization=org)
    with pytest.raises(NotPending) as refused:
        transfer_withdraw(transfer=Transfer.objects.get(pk=transfer.pk), user=trader, organization=org)
    assert refused.value.problems == {"__all__": "This transfer was already withdrawn."}


# --- one rule, one wording: every caller gives the service's message ------------------------------

OWN_ACCOUNT = InstructionDestination.Kind.OWN_ACCOUNT
MASS_HEADER = "Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"


def mass_messages(mass_run, content: str) -> list[str]:
    return [error["message"] for error in mass_run(content).errors]


def test_a_recipient_that_cannot_receive_is_refused_in_the_same_words_everywhere(
        batch, org, trader, newcomer, generator, mass_run):

    with pytest.raises(TransferRefused) as refused:
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.to_organization(newcomer))
    message = str(refused.value)
    assert message == f"{newcomer.public_id} has no account that can receive certificates yet."
    assert refused.value.problems == {"destination.organization": message}

    form = DestinationForm({"kind": "organization", "organization": newcomer.name}, organization=org, batches=[batch],
                           tracking_systems=lambda: [])
    assert not form.is_valid() and form.errors["organization"] == [message]

    assert mass_messages(mass_run, MASS_HEADER + f"{batch.serial_number},5,{newcomer.public_id},,\r\n") == [message]

    instruction_form = InstructionDestinationForm({"d1-kind": "organization", "d1-organization": newcomer.name},
                                                  organization=org, priority=1)
    assert not instruction_form.is_valid() and instruction_form.errors["organization"] == [message]
    with pytest.raises(InstructionRefused) as refused_instruction:
        instruction_create(organization=org, user=trader, generator=generator, from_vintage=batch.certificate.period,
                           percentage=10, destinations=[DestinationChoice(kind=InstructionDestination.Kind.ORGANIZATION,
                                                                          recipient=newcomer)])
    assert str(refused_instruction.value) == f"Destination 1: {message}"


def test_a_suspended_recipient_and_ones_own_organization_are_refused_in_the_same_words(
        batch, org, trader, counterparty, generator, mass_run, staff):

    organization_set_status(user=staff, organization=counterparty, status="suspended")
    for recipient, message in [(counterparty, "Lakeshore Power Cooperative is suspended and cannot receive "
                                              "certificates."),
                               (org, "This is your own organization; move certificates between your own accounts "
                                     "instead.")]:
        with pytest.raises(TransferRefused, match=message):
            transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                            destination=Destination.to_organization(recipient))
        assert mass_messages(mass_run, MASS_HEADER + f"{batch.serial_number},5,{recipient.public_id},,\r\n") == [
            message]
        with pytest.raises(InstructionRefused) as refused:
            instruction_create(organization=org, user=trader, generator=generator, percentage=10,
                               from_vintage=batch.certificate.period,
                               destinations=[DestinationChoice(kind=InstructionDestination.Kind.ORGANIZATION,
                                                               recipient=recipient)])
        assert str(refused.value) == f"Destination 1: {message}"


def test_a_frozen_account_is_refused_in_the_same_words_by_the_service_the_mass_file_and_the_instructions(
        batch, org, trader, generator, mass_run, counterparty, counterparty_trader):

    frozen = AccountFactory(organization=org, status=Account.Status.FROZEN)
    message = f"Account {frozen.public_id} is not an open active account (it is a frozen active account)."
    with pytest.raises(TransferRefused) as refused:
        transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                        destination=Destination.internal(frozen))
    assert refused.value.problems == {"destination.account": message}
    assert mass_messages(mass_run, MASS_HEADER + f"{batch.serial_number},5,,{frozen.public_id},\r\n") == [message]
    with pytest.raises(InstructionRefused) as refused_instruction:
        instruction_create(organization=org, user=trader, generator=generator, percentage=10,
                           from_vintage=batch.certificate.period,
                           destinations=[DestinationChoice(kind=OWN_ACCOUNT, account=frozen)])
    assert str(refused_instruction.value) == f"Destination 1: {message}"
    # Accepting into it is the same rule, on the acceptance's account.
    transfer = send(batch, trader, org, counterparty)
    frozen_there = AccountFactory(organization=counterparty, status=Account.Status.FROZEN)
    with pytest.raises(TransferRefused) as refused_acceptance:
        transfer_accept(transfer=transfer, user=counterparty_trader, organization=counterparty, account=frozen_there)
    assert refused_acceptance.value.problems == {
        "account": f"Account {frozen_there.public_id} is not an open active account (it is a frozen active account)."}


def test_a_line_is_refused_in_the_same_words_by_the_service_and_the_mass_file(
        foreign_batch, batch, org, trader, second_account, mass_run):
    for line, row, field in [
        (TransferLine(foreign_batch.pk, 5), f"{foreign_batch.serial_number},5,,{second_account.public_id},\r\n",
         "batch"),
        (TransferLine(batch.pk, 1001), f"{batch.serial_number},1001,,{second_account.public_id},\r\n", "quantity"),
    ]:
        problems = problems_of(lambda line=line: transfer_create(organization=org, user=trader, lines=[line],
                                                                 destination=Destination.internal(second_account)))
        assert list(problems) == [f"lines.0.{field}"]
        assert mass_messages(mass_run, MASS_HEADER + row) == list(problems.values())


def test_a_transfers_decisions_are_read_once_for_the_page_and_the_services(
        batch, org, trader, counterparty, counterparty_trader, account):
    transfer = send(batch, trader, org, counterparty)
    sender = transfer_decisions(transfer, organization_id=org.pk)
    recipient = transfer_decisions(transfer, organization_id=counterparty.pk)
    assert [decision for decision, refusal in sender.items() if refusal is None] == ["withdraw"]
    assert [decision for decision, refusal in recipient.items() if refusal is None] == ["accept", "reject"]
    with pytest.raises(NotYourDecision) as refused:
        transfer_accept(transfer=transfer, user=trader, organization=org, account=account)
    assert str(refused.value) == str(sender["accept"])
    with pytest.raises(NotYourDecision) as refused:
        transfer_withdraw(transfer=transfer, user=counterparty_trader, organization=counterparty)
    assert str(refused.value) == str(recipient["withdraw"])

    transfer_withdraw(transfer=transfer, user=trader, organization=org)
    transfer.refresh_from_db()
    withdrawn = transfer_decisions(transfer, organization_id=org.pk)["withdraw"]
    assert str(withdrawn) == "This transfer was already withdrawn."


def test_an_internal_transfer_without_an_account_is_refused_on_the_account(batch, org, trader):
    assert problems_of(lambda: transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 1)],
                                               destination=Destination(kind="internal"))) == {
        "destination.account": "Choose the active account to transfer to."}
