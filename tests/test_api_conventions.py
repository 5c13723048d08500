"""What every API answer has in common: one time format (UTC), status codes that say what went
wrong (409 a state conflict, 422 a rule, 405 a method), and its pacing (rate-limit headers, a
Location on every 201)."""

import re
import uuid

import pytest
from rest_framework.test import APIClient

from accounts.models import Account
from api.models import ApiKey
from registry.models import Membership
from transfers.models import Transfer
from transfers.services import TransferLine, transfer_accept
from webhooks.payloads import event_payload

from .conftest import retire, send
from .factories import api_key_for, member

API = "/api/v1/"
# ISO 8601 in UTC, written with Z, as DRF writes a moment (microseconds when there are any).
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")


def moments(value, name=""):
    """Every (name, text) of a JSON answer whose name says it is a moment (`..._at`)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from moments(item, key)
    elif isinstance(value, list):
        for item in value:
            yield from moments(item, name)
    elif name.endswith("_at") and value is not None:
        yield name, value


def post(client, path, body=None, key=None):
    return client.post(path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


@pytest.fixture
def owner(org, manager):
    """A manager's key with every scope; the manager reads the portal in Tokyo's time, and the
    client carries their session too (as the API's docs page would): the API is in UTC all the same."""
    manager.time_zone = "Asia/Tokyo"
    manager.save(update_fields=["time_zone"])
    _, raw = api_key_for(manager, org, ApiKey.Scope.RETIRE)
    client = APIClient()
    client.force_login(manager)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


# --- one time format -------------------------------------------------------------------------------

def test_every_moment_the_api_answers_is_utc_written_with_z(owner, org, manager, trader, batch, counterparty,
                                                            counterparty_account, retirement_account, mass_run):
    accepted = send(batch, trader, org, counterparty)
    recipient = member(counterparty, Membership.Role.TRADER, email="t2@lakeshore.example")
    transfer_accept(transfer=accepted, user=recipient, organization=counterparty, account=counterparty_account)
    pending = send(batch.__class__.objects.get(parent=batch, account=batch.account), trader, org, counterparty)
    rest = batch.__class__.objects.get(parent__parent=batch, account=batch.account, status="active")
    retire(organization=org, user=trader, lines=[TransferLine(rest.pk, 10)], account=retirement_account)
    upload = mass_run("Serial Number,Quantity,Organization ID,Account ID,Notes\r\n")
    answers = [owner.get(f"{API}transfers/"), owner.get(f"{API}transfers/{accepted.pk}/"),
               owner.get(f"{API}transfers/{pending.pk}/"), owner.get(f"{API}retirements/"),
               owner.get(f"{API}batches/"), owner.get(f"{API}mass-uploads/{upload.pk}/")]
    found = [moment for response in answers for moment in moments(response.json())]
    assert {name for name, _ in found} >= {"submitted_at", "decided_at", "expires_at", "occurred_at",
                                            "retired_at", "issued_at", "created_at", "finished_at"}
    assert [(name, text) for name, text in found if not MOMENT.fullmatch(text)] == []


def test_an_idempotency_keys_earlier_use_is_told_in_utc(owner, batch, second_account):
    body = {"lines": [{"batch": batch.pk, "quantity": 5}], "destination": {"type": "internal",
                                                                        "account": second_account.public_id}}
    post(owner, f"{API}transfers/", body, key="k-1")
    reused = post(owner, f"{API}transfers/", body | {"notes": "other"}, key="k-1")
    assert reused.status_code == 422
    [used_at] = re.findall(r"used at (\S+) for", reused.json()["detail"])
    assert MOMENT.fullmatch(used_at), used_at


def test_a_webhook_delivery_writes_its_moments_as_the_api_does(org, trader, batch, counterparty):
    transfer = send(batch, trader, org, counterparty)
    payload = event_payload(event_type="transfer.pending", event_id=uuid.uuid4(), organization=org,
                            created_at=transfer.submitted_at, transfer=Transfer.objects.get(pk=transfer.pk))
    found = list(moments(payload))
    assert {name for name, _ in found} == {"created_at", "submitted_at", "expires_at"}  # as the API answers it
    assert [(name, text) for name, text in found if not MOMENT.fullmatch(text)] == []


# --- status codes ----------------------------------------------------------------------------------

@pytest.fixture
def recipient(api_as, counterparty):
    manager = member(counterparty, Membership.Role.MANAGER, email="manager@lakeshore.example")
    return api_as(manager, counterparty, ApiKey.Scope.TRADE)


def assert_problem(response, status: int, code: str, detail: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == f"urn:rec-registry:problem:{code}" and body["status"] == status
    if detail is not None:
        assert body["detail"] == detail
    return body


def test_a_decision_on_a_transfer_decided_already_is_a_409_conflict(owner, recipient, org, trader, batch,
                                                                    counterparty, counterparty_account):
    transfer = send(batch, trader, org, counterparty)
    assert post(owner, f"{API}transfers/{transfer.pk}/withdraw/").status_code == 200
    for client, decision, body in [(owner, "withdraw", {}), (recipient, "reject", {}),
                                   (recipient, "accept", {"account": counterparty_account.public_id})]:
        assert_problem(post(client, f"{API}transfers/{transfer.pk}/{decision}/", body), 409, "conflict",
                       "This transfer was already withdrawn.")


def test_a_rule_the_request_breaks_is_a_422(owner, batch, counterparty):
    Account.objects.filter(pk=batch.account_id).update(status=Account.Status.FROZEN)
    body = {"lines": [{"batch": batch.pk, "quantity": 5}],
            "destination": {"type": "organization", "organization": counterparty.public_id}}
    body = assert_problem(post(owner, f"{API}transfers/", body), 422, "refused")
    assert "frozen" in body["detail"]
    assert not Transfer.objects.exists()


def test_the_other_party_of_a_transfer_is_told_whose_decision_it_is(owner, recipient, org, trader, batch,
                                                                    counterparty, second_account):
    transfer = send(batch, trader, org, counterparty)
    assert_problem(post(owner, f"{API}transfers/{transfer.pk}/accept/", {"account": second_account.public_id}),
                   403, "permission-denied",
                   "You sent this transfer; only the recipient, Lakeshore Power Cooperative, can accept it.")
    assert_problem(post(owner, f"{API}transfers/{transfer.pk}/reject/"), 403, "permission-denied",
                   "You sent this transfer; only the recipient, Lakeshore Power Cooperative, can reject it.")
    assert_problem(post(recipient, f"{API}transfers/{transfer.pk}/withdraw/"), 403, "permission-denied",
                   "Only the sender, Prairie Wind Energy, can withdraw this transfer; you can accept or reject it.")
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.PENDING


@pytest.mark.parametrize("method,path,allowed", [
    ("put", "transfers/{id}/", "GET"), ("patch", "transfers/{id}/", "GET"), ("delete", "transfers/{id}/", "GET"),
    ("delete", "transfers/", "GET, POST"), ("post", "batches/", "GET"), ("put", "organization/", "GET"),
    ("get", "transfers/{id}/accept/", "POST"),
])
def test_a_method_an_operation_does_not_take_is_a_405_problem(owner, org, trader, batch, counterparty, method, path,
                                                               allowed):
    transfer = send(batch, trader, org, counterparty)
    response = getattr(owner, method)(API + path.format(id=transfer.pk), HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    body = assert_problem(response, 405, "method-not-allowed")
    assert body["detail"] == f'Method "{method.upper()}" not allowed.'
    assert [name for name in response["Allow"].split(", ") if name not in ("HEAD", "OPTIONS")] == allowed.split(", ")
    assert Transfer.objects.get(pk=transfer.pk).status == Transfer.Status.PENDING


def test_a_cursor_the_api_did_not_give_is_a_400_naming_it(owner):
    body = assert_problem(owner.get(f"{API}transfers/", {"cursor": "bm90LW91cnM="}), 400, "invalid")
    assert [error["field"] for error in body["errors"]] == ["cursor"]


# --- pacing ----------------------------------------------------------------------------------------

def rate_headers(response) -> tuple:
    return response.get("RateLimit-Limit"), response.get("RateLimit-Remaining"), response.get("RateLimit-Reset")


def test_every_answer_says_where_the_key_stands_with_its_rate_limit(org, viewer, monkeypatch, still_clock):
    from api.throttling import ApiKeyThrottle

    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "4/minute"})
    _, raw = api_key_for(viewer, org, ApiKey.Scope.READ)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    answers = [client.get(f"{API}organization/"), client.get(f"{API}accounts/ACT-99999/"),  # a 404 counts too
               client.get(f"{API}batches/", {"page_size": "0"}), client.get(f"{API}organization/"),
               client.get(f"{API}organization/")]
    assert [response.status_code for response in answers] == [200, 404, 400, 200, 429]
    assert [rate_headers(response) for response in answers] == [
        ("4", "3", "45"), ("4", "2", "45"), ("4", "1", "45"), ("4", "0", "45"), ("4", "0", "45")]
    assert answers[-1]["Retry-After"] == "45"
    _, other = api_key_for(viewer, org, ApiKey.Scope.READ)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {other}")
    assert rate_headers(client.get(f"{API}organization/")) == ("4", "3", "45")  # each key its own count


def test_the_public_verification_record_says_where_the_address_stands(db, settings, still_clock):
    settings.VERIFY_REQUESTS_PER_MINUTE = 2
    answers = [APIClient().get(f"{API}verify/ABCDEFGHJKMNPQRSTVWX/") for _ in range(3)]
    assert [response.status_code for response in answers] == [404, 404, 429]
    assert [rate_headers(response) for response in answers] == [("2", "1", "45"), ("2", "0", "45"), ("2", "0", "45")]


def test_with_redis_unreachable_there_are_no_rate_limit_headers(org, viewer, monkeypatch):
    import redis

    from utilities import throttle

    down = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)  # nothing listens on port 1
    monkeypatch.setattr(throttle, "_redis", lambda: down)
    _, raw = api_key_for(viewer, org, ApiKey.Scope.READ)
    response = APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}").get(f"{API}organization/")
    assert response.status_code == 200 and rate_headers(response) == (None, None, None)


def test_every_201_says_where_its_object_is_and_so_does_its_replay(owner, org, batch, issue, second_account,
                                                                    retirement_account, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .factories import RetirementOptionFactory

    settings.MEDIA_ROOT = tmp_path
    option = RetirementOptionFactory()
    lines = [{"batch": batch.pk, "quantity": 5}]
    creates = [
        ("transfers/", {"lines": lines, "destination": {"type": "internal", "account": second_account.public_id}},
         "json"),
        ("retirements/", {"lines": [{"batch": issue(100).pk, "quantity": 5}],
                          "account": retirement_account.public_id, "option": option.name,
                          "compliance_period": 2024, "beneficiary": "Prairie Wind Energy"}, "json"),
        ("mass-uploads/", {"kind": "transfer", "file": SimpleUploadedFile(
            "t.csv", b"Serial Number,Quantity,Organization ID,Account ID,Notes\r\n")}, "multipart"),
    ]
    for path, body, body_format in creates:
        key = str(uuid.uuid4())
        first = owner.post(API + path, body, format=body_format, HTTP_IDEMPOTENCY_KEY=key)
        assert first.status_code == 201, (path, first.content)
        if body_format == "multipart":
            body["file"].seek(0)
        again = owner.post(API + path, body, format=body_format, HTTP_IDEMPOTENCY_KEY=key)
        assert again["Idempotent-Replayed"] == "true"
        assert first["Location"] and again["Location"] == first["Location"], path
        assert owner.get(first["Location"]).status_code == 200, (path, first["Location"])
