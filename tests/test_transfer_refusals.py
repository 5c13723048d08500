"""Every refusal of a transfer service names the field it concerns (transfers.values), in the
services' own vocabulary: the API answers with these keys, the pages with the plain message."""

import pytest

from transfers.models import Transfer
from transfers.services import (
    Destination,
    NotPending,
    RetirementDetails,
    TransferLine,
    TransferRefused,
    retirement_create,
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
