"""What every API answer has in common: one time format (UTC), status codes that say what went
wrong (409 a state conflict, 422 a rule, 405 a method), and its pacing (rate-limit headers, a
Location on every 201)."""

import re
import uuid

import pytest
from rest_framework.test import APIClient

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
    assert {name for name, _ in found} == {"created_at", "submitted_at"}
    assert [(name, text) for name, text in found if not MOMENT.fullmatch(text)] == []
