"""The API's retirements: create (the wizard's retirement details, each problem under its field),
list (the Retired tab's filter), the statement PDF."""

import io

import pytest
from pypdf import PdfReader

from api.models import ApiKey
from ledger.verification import ledger_breaches
from retirements.models import Retirement, RetirementOption
from transfers.services import TransferLine

from .conftest import ledger_state, retire
from .factories import RetirementOptionFactory
from .test_api_transfers import fields, post

RETIREMENTS = "/api/v1/retirements/"


@pytest.fixture
def owner(api_as, org, manager):
    return api_as(manager, org, ApiKey.Scope.RETIRE)


@pytest.fixture
def option(db):
    return RetirementOptionFactory(requires_beneficiary=True)


def body(batch, account, quantity=100, **details):
    return {"lines": [{"batch": batch.pk, "quantity": quantity}], "account": account.public_id,
            "option": "Minnesota RES", "compliance_period": 2024, "beneficiary": "City of Duluth", **details}


def test_retire_part_of_a_batch(owner, batch, retirement_account, option):
    response = post(owner, RETIREMENTS, body(batch, retirement_account, notes="Q1", period_start="2024-01-01",
                                             period_end="2024-03-31"))
    assert response.status_code == 201, response.content
    made = response.json()
    retirement = Retirement.objects.get(reference=made["reference"])
    assert (made["transfer"], made["quantity"], made["account"]) == (
        retirement.transfer_id, 100, retirement_account.public_id)
    assert (made["option"], made["compliance_period"], made["beneficiary"], made["notes"]) == (
        "Minnesota RES", 2024, "City of Duluth", "Q1")
    assert made["period_end"] == "2024-03-31"
    retired, stayed = (retirement.transfer.items.get().batch,
                       batch.children.get(status="active"))
    assert made["lines"] == [{"batch": batch.pk, "quantity": 100, "moved": retired.pk, "remaining": stayed.pk}]
    assert retirement.transfer.items.get().batch.serial_number.endswith("-1 to 100")
    assert response["Location"] == f"{RETIREMENTS}{made['reference']}/statement.pdf"
    assert ledger_breaches() == []


@pytest.mark.parametrize(("details", "field", "message"), [
    ({"compliance_period": None}, "compliance_period", "needs a compliance period"),
    ({"compliance_period": 1999}, "compliance_period", "from 2000 to 2100"),
    ({"beneficiary": ""}, "beneficiary", "needs the name of the beneficiary"),
    ({"period_start": "2024-05-01", "period_end": "2024-04-01"}, "period_end", "on or after its start"),
    ({"period_start": "May"}, "period_start", "format"),
    ({"option": "Nowhere RPS"}, "option", "Choose one of the options offered"),
    ({"account": "ACT-99999"}, "account", "open retirement accounts"),
])
def test_each_problem_of_the_details_names_its_field(owner, batch, retirement_account, option, details, field,
                                                      message):
    before = ledger_state()
    response = post(owner, RETIREMENTS, body(batch, retirement_account) | details)
    assert response.status_code == 400, response.content
    assert message in fields(response)[field], fields(response)
    assert ledger_state() == before


def test_an_active_account_is_not_a_retirement_account(owner, batch, second_account, option):
    response = post(owner, RETIREMENTS, body(batch, second_account))
    assert response.status_code == 400
    # one wording for the rule, the wizard's and the service's (Destination.problems)
    assert "is not an open retirement account (it is an open active account)" in fields(response)["account"]


def test_an_inactive_option_is_refused(owner, batch, retirement_account, option):
    RetirementOption.objects.filter(pk=option.pk).update(is_active=False)
    response = post(owner, RETIREMENTS, body(batch, retirement_account))
    assert response.status_code == 400
    assert "option" in fields(response)


def test_too_many_certificates_names_the_line(owner, batch, retirement_account, option):
    response = post(owner, RETIREMENTS, body(batch, retirement_account, quantity=5000))
    assert response.status_code == 400
    assert fields(response)["lines[0].quantity"] == \
        f"Quantity 5,000 is more than batch {batch.serial_number} holds (1,000)."


def test_a_trade_key_cannot_retire(api_as, org, manager, batch, retirement_account, option):
    trade = api_as(manager, org, ApiKey.Scope.TRADE)
    before = ledger_state()
    response = post(trade, RETIREMENTS, body(batch, retirement_account))
    assert response.status_code == 403
    assert "retire" in response.json()["detail"]
    assert ledger_state() == before
    assert trade.get(RETIREMENTS).status_code == 200  # reading needs only read


def test_list_filters_as_the_retired_tab(owner, org, trader, issue, retirement_account, option):
    other = RetirementOptionFactory(name="Green-e Energy", type=RetirementOption.Type.GREEN_E,
                                    requires_compliance_period=False)
    first = retire(organization=org, user=trader, lines=[TransferLine(issue(10).pk, 10)], account=retirement_account,
                   option=option, beneficiary="Duluth")
    second = retire(organization=org, user=trader, lines=[TransferLine(issue(20).pk, 20)], account=retirement_account,
                    option=other, compliance_period=None)
    listed = owner.get(RETIREMENTS).json()["results"]
    assert [(row["transfer"], row["quantity"]) for row in listed] == [(first.pk, 10), (second.pk, 20)]
    for name in (option.name, option.name.lower()):  # an option by its name, as a retirement shows it
        filtered = owner.get(RETIREMENTS, {"option": name}).json()["results"]
        assert [(row["transfer"], row["option"]) for row in filtered] == [(first.pk, option.name)]
    unknown = owner.get(RETIREMENTS, {"option": option.pk})
    assert unknown.status_code == 400
    assert fields(unknown)["option"] == f"There is no retirement option named “{option.pk}”: choose one from the list."
    assert [row["transfer"] for row in owner.get(RETIREMENTS, {"beneficiary": "dulu"}).json()["results"]] == [first.pk]
    wrong = owner.get(RETIREMENTS, {"compliance_period": "soon"})
    assert wrong.status_code == 400
    assert "compliance_period" in fields(wrong)


def test_statement_pdf(api_as, owner, outsider, org, trader, batch, retirement_account, option):
    transfer = retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 40)], account=retirement_account,
                      option=option, beneficiary="Duluth")
    reference = transfer.retirement.reference
    for path_id in (reference, reference.lower()):  # a retirement by its public reference
        response = owner.get(f"{RETIREMENTS}{path_id}/statement.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert reference in text
    assert owner.get(f"{RETIREMENTS}{transfer.pk}/statement.pdf").status_code == 404  # its transfer's number: no
    stranger = api_as(outsider, outsider.memberships.get().organization, ApiKey.Scope.RETIRE)
    assert stranger.get(f"{RETIREMENTS}{reference}/statement.pdf").status_code == 404
    assert stranger.get(RETIREMENTS).json()["results"] == []


def test_a_transfer_has_no_statement(owner, org, trader, batch, counterparty):
    from .conftest import send

    transfer = send(batch, trader, org, counterparty)
    assert owner.get(f"{RETIREMENTS}{transfer.pk}/statement.pdf").status_code == 404
