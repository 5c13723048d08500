"""The "24/7 hourly matching" retirement option is the registry's own (RetirementOption.registry_only):
Match retires with it; no retirement a user picks by hand may (the wizard, the API, the mass retirement
file, standing instructions), and each refuses it in words if it is posted anyway."""

import html

import pytest
from django.urls import reverse

from instructions.forms import DestinationForm
from matching.models import MATCHING_OPTION
from matching.services import matching_option
from retirements.models import RetirementOption
from transfers.models import Transfer
from transfers.services import TransferLine, TransferRefused

from .conftest import ledger_state, retire
from .factories import RetirementOptionFactory
from .test_api_transfers import fields, post
from .test_mass_retirements import HEADER
from .test_retirement_wizard import details, start
from .test_wizard import step_url

WITHHELD = f"{MATCHING_OPTION} is the registry's own option: only its hourly matching"


@pytest.fixture
def hourly_option(db):
    return matching_option()


@pytest.fixture
def option(db):
    return RetirementOptionFactory()


def test_matchings_option_is_the_registrys_own_even_when_staff_made_it_first(db):
    RetirementOption.objects.create(name=MATCHING_OPTION, type=RetirementOption.Type.VOLUNTARY_CLAIM,
                                    reason=RetirementOption.Reason.VOLUNTARY)
    assert matching_option().registry_only
    assert RetirementOption.objects.get(name=MATCHING_OPTION).registry_only


def test_the_wizard_does_not_offer_it_and_refuses_it_posted(signed_in, trader, batch, retirement_account, option,
                                                           hourly_option):
    client = signed_in(trader)
    draft = start(client, batch)
    assert client.post(step_url(draft, "quantity"), {f"quantity_{batch.pk}": 10}).status_code == 302
    page = client.get(step_url(draft, "destination")).content.decode()
    assert "Minnesota RES" in page and MATCHING_OPTION not in page

    response = client.post(step_url(draft, "destination"), details(retirement_account, hourly_option))

    assert response.status_code == 200  # step 2 again, with the refusal by its field
    assert WITHHELD in html.unescape(response.content.decode())
    assert "option" not in Transfer.objects.get(pk=draft.pk).draft


def test_the_service_refuses_it_for_a_retirement_picked_by_hand(org, trader, batch, retirement_account,
                                                               hourly_option):
    before = ledger_state()
    with pytest.raises(TransferRefused) as refused:
        retire(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)], account=retirement_account,
               option=hourly_option, compliance_period=None)
    assert refused.value.problems["retirement.option"].startswith(WITHHELD)
    assert ledger_state() == before


def test_the_api_does_not_list_it_and_refuses_it(api_as, org, manager, batch, retirement_account, option,
                                                hourly_option):
    client = api_as(manager, org, "retire")
    listed = [entry["name"] for entry in client.get("/api/v1/retirement-options/").json()]
    assert listed == ["Minnesota RES"]
    before = ledger_state()

    response = post(client, "/api/v1/retirements/", {
        "lines": [{"batch": batch.pk, "quantity": 10}], "account": retirement_account.public_id,
        "option": MATCHING_OPTION.upper()})

    assert response.status_code == 400, response.content
    assert fields(response)["option"].startswith(WITHHELD)
    assert ledger_state() == before


def test_the_mass_retirement_file_refuses_it_by_row_and_column(mass_refused, signed_in, trader, batch,
                                                              retirement_account, option, hourly_option):
    page = signed_in(trader).get(reverse("mass_uploads:uploads")).content.decode()
    assert "Minnesota RES" in page and MATCHING_OPTION not in page
    upload = mass_refused(HEADER + f"{batch.serial_number},5,{retirement_account.public_id},{MATCHING_OPTION},,,,,\n"
                                   f"{batch.serial_number},5,{retirement_account.public_id},{MATCHING_OPTION},,,,,\n",
                          WITHHELD, row=2, column="D (Option)", kind="retirement")
    assert [error["row"] for error in upload.errors] == [2, 3]


def test_a_standing_instruction_cannot_choose_it(org, hourly_option, option):
    field = DestinationForm.base_fields["option"]
    assert list(field.queryset) == [option]
    with pytest.raises(Exception, match="the registry's own option"):
        field.clean(str(hourly_option.pk))
