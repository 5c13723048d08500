"""The API's lookups: the values a request may name (retirement options, tracking systems, the
organizations a transfer can go to), listed as the transfer page offers them."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Account
from api.problems import PROBLEM_CONTENT_TYPE
from registry.models import Membership, Organization
from retirements.models import RetirementOption

from .factories import AccountFactory, OrganizationFactory, RetirementOptionFactory, TrackingSystemFactory

OPTIONS = "/api/v1/retirement-options/"
SYSTEMS = "/api/v1/tracking-systems/"
ORGANIZATIONS = "/api/v1/organizations/"


@pytest.fixture
def reader(api_as, org, viewer):
    return api_as(viewer, org)


def test_no_key_or_a_key_whose_creator_left_is_a_401(api_as, org, trader):
    left = api_as(trader, org)
    Membership.objects.filter(user=trader).delete()
    for client in (APIClient(), left):
        for path in (OPTIONS, SYSTEMS, f"{ORGANIZATIONS}?search=lake"):
            response = client.get(path)
            assert response.status_code == 401, (path, response.content)
            assert response["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_the_retirement_options_offered_with_the_details_each_needs(reader):
    RetirementOptionFactory()  # Minnesota RES: a compliance period
    RetirementOptionFactory(name="Green-e Energy", type=RetirementOption.Type.GREEN_E,
                            reason=RetirementOption.Reason.VOLUNTARY, state="", requires_compliance_period=False,
                            requires_beneficiary=True)
    RetirementOptionFactory(name="Old Program", is_active=False)  # no longer offered
    assert reader.get(OPTIONS).json() == [
        {"name": "Green-e Energy", "type": "green_e", "reason": "voluntary", "state": "",
         "required_details": ["beneficiary"]},
        {"name": "Minnesota RES", "type": "state_rps", "reason": "compliance", "state": "MN",
         "required_details": ["compliance_period"]},
    ]


def test_each_option_listed_is_one_a_retirement_takes_by_its_name(signed_in, reader, trader):
    RetirementOptionFactory()
    RetirementOptionFactory(name="Old Program", is_active=False)
    wizard = signed_in(trader).get(reverse("mass_uploads:uploads")).context["retirement_options"]
    assert [option["name"] for option in reader.get(OPTIONS).json()] == list(wizard) == ["Minnesota RES"]


def test_the_tracking_systems_an_export_can_go_to(reader):
    TrackingSystemFactory()
    TrackingSystemFactory(code="M-RETS", name="Midwest Renewable Energy Tracking System")
    TrackingSystemFactory(code="GATS", name="PJM-GATS", is_active=False)
    assert reader.get(SYSTEMS).json() == [
        {"code": "M-RETS", "name": "Midwest Renewable Energy Tracking System"},
        {"code": "WREGIS", "name": "Western Renewable Energy Generation Information System"},
    ]


# Organizations: what the transfer page's destination step offers for the same text.

@pytest.fixture
def registry(org, counterparty):
    """Besides ours (Prairie Wind Energy) and Lakeshore Power Cooperative (able to receive): one with
    no open active account, and a suspended one."""
    closed = OrganizationFactory(name="Lakeview Solar")
    AccountFactory(organization=closed, name="Lakeview active", status=Account.Status.CLOSED)
    suspended = OrganizationFactory(name="Lake Suspended Traders", status=Organization.Status.SUSPENDED)
    AccountFactory(organization=suspended, name="Suspended active")
    return {"closed": closed, "suspended": suspended}


def test_organizations_by_name_with_whether_each_can_receive(reader, org, counterparty, registry):
    assert reader.get(ORGANIZATIONS, {"search": "lake"}).json() == [
        {"id": counterparty.public_id, "name": "Lakeshore Power Cooperative", "can_receive": True},
        {"id": registry["closed"].public_id, "name": "Lakeview Solar", "can_receive": False},
    ]  # not the suspended organization


def test_organizations_by_mm_id(reader, org, counterparty, registry):
    for text in (counterparty.public_id, counterparty.public_id.lower(), counterparty.public_id.removeprefix("MM")):
        assert [row["id"] for row in reader.get(ORGANIZATIONS, {"search": text}).json()] == [counterparty.public_id]
    assert reader.get(ORGANIZATIONS, {"search": registry["suspended"].public_id}).json() == []
    assert reader.get(ORGANIZATIONS, {"search": org.public_id}).json() == []  # never one's own
    assert reader.get(ORGANIZATIONS, {"search": "Prairie"}).json() == []


@pytest.mark.parametrize("text", ["lake", "LAKE", "Lakeshore", "view", "MM0", "00", "a", " l ", "Prairie", "nothing",
                                  "Lake Suspended"])
def test_organizations_are_those_the_transfer_page_offers(signed_in, reader, trader, registry, text):
    page = signed_in(trader).get(reverse("transfers:organization_search"), {"organization": text})
    offered = re.findall(r'\((MM[0-9]+)\)"></option>', page.content.decode())
    assert [row["id"] for row in reader.get(ORGANIZATIONS, {"search": text}).json()] == offered


def test_at_most_ten_organizations_are_listed(reader, org):
    for number in range(12):
        OrganizationFactory(name=f"Lake Trader {number:02}")
    listed = reader.get(ORGANIZATIONS, {"search": "lake trader"}).json()
    assert [row["name"] for row in listed] == [f"Lake Trader {number:02}" for number in range(10)]


def test_the_organization_search_needs_its_text(reader):
    response = reader.get(ORGANIZATIONS)
    assert response.status_code == 400 and response["Content-Type"] == PROBLEM_CONTENT_TYPE
    assert response.json()["errors"] == [{"field": "search", "detail": "Give a part of the organization's name or "
                                                                       "MM id."}]
    assert reader.get(ORGANIZATIONS, {"search": "lake", "status": "any"}).status_code == 400  # no such parameter


def test_an_organization_search_with_a_null_character_is_refused(reader, registry):
    """As every text the API reads: the schema says so (no null character), the server holds to it."""
    response = reader.get(ORGANIZATIONS, {"search": "lake\x00"})
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [{"field": "search", "detail": "Null characters are not allowed."}]
