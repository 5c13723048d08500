"""The EnergyTag face of the API (issue 33, item 5): /api/energytag/v1/'s query, transfer, cancel and claim
over the same services, keys and FilterSet as /api/v1/; another organization's bundles are none of the key's."""

import datetime
import json
import uuid
from decimal import Decimal

import pytest

from api.models import ApiKey
from certificates.models import CertificateBatch
from certificates.periods import ProductionPeriod
from ledger.verification import ledger_breaches
from transfers.models import Transfer

from .factories import GeneratorFactory, RetirementOptionFactory

API = "/api/energytag/v1/certificates/"
HOURS = ProductionPeriod(datetime.datetime(2026, 6, 1, 5, tzinfo=datetime.UTC),
                         datetime.datetime(2026, 6, 1, 9, tzinfo=datetime.UTC)).hours


@pytest.fixture
def bundles(issue, org, account):
    """Four hours of a granular generator (1,000 Wh and up), and a month of RECs (no GC Bundle)."""
    generator = GeneratorFactory(organization=org, code="H100", name="Ridge Wind", granular=True,
                                 capacity_mw=Decimal(50), account=account, fuel_type="wind",
                                 emissions_factor=Decimal("11.5"), emissions_factor_source="IPCC 2014")
    hourly = [issue(1000 + index, period=period, generator=generator) for index, period in enumerate(HOURS)]
    issue(5)  # a month's RECs
    return hourly


@pytest.fixture
def owner(api_as, org, manager):
    return api_as(manager, org, ApiKey.Scope.RETIRE)


def post(client, operation, body):
    return client.post(API + operation, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def errors(response) -> dict[str, str]:
    assert response["Content-Type"] == "application/problem+json", response.content
    return {error["field"]: error["detail"] for error in response.json()["errors"]}


# --- query ------------------------------------------------------------------------------------------------

def test_query_lists_the_accounts_gc_bundles_with_the_standards_fields(owner, account, bundles):
    response = owner.get(API + "query", {"source_id": account.public_id})
    assert response.status_code == 200, response.content
    found = response.json()
    assert [bundle["id"] for bundle in found["granular_certificate_bundles"]] == [batch.pk for batch in bundles]
    assert found["total_certificate_volume"] == 1000 + 1001 + 1002 + 1003 and not found["truncated"]
    first = found["granular_certificate_bundles"][0]
    assert first | {"id": 0, "issuance_id": ""} == {
        "id": 0, "issuance_id": "", "certificate_bundle_status": "Active", "account_id": account.public_id,
        "certificate_bundle_id_range_start": 1, "certificate_bundle_id_range_end": 1000, "bundle_quantity": 1000,
        "energy_carrier": "Electricity", "energy_source": "Wind", "face_value": 1, "device_id": "H100",
        "device_name": "Ridge Wind", "device_capacity": 50_000_000, "device_location": bundles[0].certificate.state,
        "production_starting_interval": "2026-06-01T05:00:00Z", "production_ending_interval": "2026-06-01T06:00:00Z",
        "expiry_datestamp": "2028-06-01T06:00:00Z", "issuing_body": "Midwest Renewable Energy Registry",
        "emissions_factor_production_device": 11.5, "emissions_factor_source": "IPCC 2014"}
    assert first["issuance_id"] == bundles[0].certificate.serial_base


def test_query_filters_by_production_period_device_and_source(owner, account, bundles):
    response = owner.get(API + "query", {"source_id": account.public_id.lower(), "device_id": "H100",
                                         "energy_source": "Wind", "certificate_period_start": "2026-06-01T06:00:00Z",
                                         "certificate_period_end": "2026-06-01T08:00:00Z", "limit": 1})
    found = response.json()
    assert [bundle["id"] for bundle in found["granular_certificate_bundles"]] == [bundles[1].pk]
    assert found["truncated"] and found["total_certificate_volume"] == 1001 + 1002
    assert owner.get(API + "query", {"source_id": account.public_id, "energy_source": "Solar"}).json()[
        "granular_certificate_bundles"] == []


@pytest.mark.parametrize(("query", "field"), [
    ({}, "source_id"),
    ({"source_id": "ACT-99999"}, "source_id"),
    ({"certificate_period_start": "soon"}, "certificate_period_start"),
    ({"certificate_bundle_status": "Lost"}, "certificate_bundle_status"),
    ({"limit": "0"}, "limit"),
    ({"colour": "green"}, "colour"),
])
def test_a_bad_query_is_a_400_naming_the_parameter(owner, account, bundles, query, field):
    response = owner.get(API + "query", {"source_id": account.public_id} | query if "source_id" not in query
                         and query else query)
    assert response.status_code == 400, response.content
    assert field in errors(response)


def test_another_organizations_key_sees_none_of_the_bundles(api_as, outsider, account, bundles):
    stranger = api_as(outsider, outsider.memberships.get().organization, ApiKey.Scope.RETIRE)
    response = stranger.get(API + "query", {"source_id": account.public_id})
    assert response.status_code == 400 and "source_id" in errors(response)
    moved = post(stranger, "transfer", {"source_id": account.public_id, "granular_certificate_bundle_ids":
                                        [bundles[0].pk], "target_id": account.public_id})
    assert moved.status_code == 400 and "granular_certificate_bundle_ids[0]" in errors(moved)
    assert CertificateBatch.objects.get(pk=bundles[0].pk).status == "active"


# --- transfer ---------------------------------------------------------------------------------------------

def test_transfer_moves_part_of_a_bundle_to_another_account_lowest_serials_first(owner, account, second_account,
                                                                                 bundles):
    response = post(owner, "transfer", {"source_id": account.public_id, "granular_certificate_bundle_ids":
                                        [bundles[0].pk], "certificate_quantity": 400,
                                        "target_id": second_account.public_id})
    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["action_type"], result["status"], result["certificate_quantity"]) == ("transfer", "complete", 400)
    moved = CertificateBatch.objects.get(pk=result["granular_certificate_bundle_ids"][0])
    assert (moved.account, moved.serial_start, moved.serial_end) == (second_account, 1, 400)
    assert owner.get(response["Location"]).json()["id"] == result["id"]
    assert ledger_breaches() == []


def test_transfer_to_another_organization_is_pending_until_it_accepts(owner, account, counterparty, bundles):
    response = post(owner, "transfer", {"source_id": account.public_id, "granular_certificate_bundle_ids":
                                        [bundle.pk for bundle in bundles[:2]], "target_id": counterparty.public_id})
    assert response.status_code == 201, response.content
    transfer = Transfer.objects.get(pk=response.json()["id"])
    assert transfer.status == "pending" and transfer.recipient_organization == counterparty
    assert response.json()["certificate_quantity"] == 2001


def test_transfer_refuses_what_the_rules_refuse_naming_the_field(owner, account, bundles):
    too_many = post(owner, "transfer", {"source_id": account.public_id, "granular_certificate_bundle_ids":
                                        [bundles[0].pk], "certificate_quantity": 5000, "target_id": "ACT-99999"})
    assert too_many.status_code == 400
    assert set(errors(too_many)) == {"granular_certificate_bundle_ids[0].quantity"}
    nowhere = post(owner, "transfer", {"source_id": account.public_id, "granular_certificate_bundle_ids":
                                       [bundles[0].pk], "target_id": "ACT-99999"})
    assert nowhere.status_code == 400 and "target_id" in errors(nowhere)
    assert CertificateBatch.objects.get(pk=bundles[0].pk).status == "active"


def test_a_month_of_recs_is_no_gc_bundle(owner, account, bundles):
    month = CertificateBatch.objects.exclude(pk__in=[bundle.pk for bundle in bundles]).get(account=account)
    response = post(owner, "transfer", {"source_id": account.public_id, "granular_certificate_bundle_ids": [month.pk],
                                        "target_id": account.public_id})
    assert response.status_code == 400 and "granular_certificate_bundle_ids[0]" in errors(response)


def test_a_read_key_cannot_transfer_and_a_trade_key_cannot_cancel(api_as, org, viewer, trader, account, bundles,
                                                                   retirement_account):
    assert post(api_as(viewer, org, ApiKey.Scope.READ), "transfer", {
        "source_id": account.public_id, "granular_certificate_bundle_ids": [bundles[0].pk],
        "target_id": account.public_id}).status_code == 403
    assert post(api_as(trader, org, ApiKey.Scope.TRADE), "cancel", {
        "source_id": account.public_id, "granular_certificate_bundle_ids": [bundles[0].pk],
        "target_id": retirement_account.public_id, "retirement_option": "x"}).status_code == 403


def test_a_retry_with_the_same_key_transfers_once(owner, account, second_account, bundles):
    key = str(uuid.uuid4())
    body = {"source_id": account.public_id, "granular_certificate_bundle_ids": [bundles[0].pk],
            "target_id": second_account.public_id}
    first = owner.post(API + "transfer", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = owner.post(API + "transfer", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert Transfer.objects.filter(status="complete").count() == 1


# --- cancel and claim -------------------------------------------------------------------------------------

@pytest.fixture
def option(db):
    return RetirementOptionFactory(name="24/7 CFE claim")


def cancel(owner, account, retirement_account, option, bundle, **fields):
    return post(owner, "cancel", {"source_id": account.public_id, "granular_certificate_bundle_ids": [bundle.pk],
                                  "target_id": retirement_account.public_id, "retirement_option": option.name,
                                  "beneficiary": "City of Duluth", "compliance_period": 2026} | fields)


def test_cancel_retires_for_the_beneficiary_and_the_claim_proves_it(owner, account, retirement_account, option,
                                                                     bundles):
    response = cancel(owner, account, retirement_account, option, bundles[1], certificate_quantity=1)
    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["action_type"], result["beneficiary"], result["certificate_quantity"]) == (
        "cancel", "City of Duluth", 1)
    assert owner.get(response["Location"]).status_code == 200  # the statement
    cancelled = result["granular_certificate_bundle_ids"][0]
    assert CertificateBatch.objects.get(pk=cancelled).status == "retired"
    query = owner.get(API + "query", {"source_id": retirement_account.public_id,
                                      "certificate_bundle_status": "Cancelled"}).json()
    assert [bundle["id"] for bundle in query["granular_certificate_bundles"]] == [cancelled]

    claim = owner.post(API + "claim", {"source_id": retirement_account.public_id,
                                       "granular_certificate_bundle_ids": [cancelled],
                                       "beneficiary": "city of duluth"}, format="json")
    assert claim.status_code == 200, claim.content
    [made] = claim.json()["claims"]
    assert (made["retirement_reference"], made["beneficiary"]) == (result["retirement_reference"], "City of Duluth")
    assert made["verification_url"].endswith(f"/verify/{result['retirement_reference']}/")
    assert ledger_breaches() == []


def test_a_claim_for_another_beneficiary_or_on_a_bundle_not_cancelled_is_refused(owner, account, retirement_account,
                                                                                 option, bundles):
    cancelled = cancel(owner, account, retirement_account, option, bundles[0]).json()[
        "granular_certificate_bundle_ids"][0]
    other = owner.post(API + "claim", {"source_id": retirement_account.public_id,
                                       "granular_certificate_bundle_ids": [cancelled], "beneficiary": "Acme"},
                       format="json")
    assert other.status_code == 400 and "City of Duluth" in errors(other)["granular_certificate_bundle_ids[0]"]
    active = owner.post(API + "claim", {"source_id": account.public_id,
                                        "granular_certificate_bundle_ids": [bundles[1].pk]}, format="json")
    assert active.status_code == 400 and "granular_certificate_bundle_ids[0]" in errors(active)


def test_cancel_refuses_a_missing_option_naming_it(owner, account, retirement_account, bundles):
    response = post(owner, "cancel", {"source_id": account.public_id, "granular_certificate_bundle_ids":
                                      [bundles[0].pk], "target_id": retirement_account.public_id,
                                      "retirement_option": "Nothing"})
    assert response.status_code == 400 and "retirement_option" in errors(response)
    assert CertificateBatch.objects.get(pk=bundles[0].pk).status == "active"


def test_the_schema_documents_the_energytag_operations(client):
    document = json.loads(client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    for operation in ("query", "transfer", "cancel", "claim"):
        assert f"/api/energytag/v1/certificates/{operation}" in document["paths"]
