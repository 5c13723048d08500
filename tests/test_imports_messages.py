"""Registry to registry (#32 item 2, the receiving side): an export another registry running this project
signs and sends becomes an import here, pending for the recipient; an unsigned, wrongly signed, foreign,
replayed or malformed message changes nothing and is answered with a clear problem. Each check has a test
here that fails without it."""

import base64
import json
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from imports.messages import export_message, message_signed, public_key_text, signing_key
from imports.models import Import, PeerRegistry
from registry.models import TrackingSystem
from utilities.signing_keys import ed25519_public_text

from .conftest import ledger_state

INBOX = reverse("imports:inbox")


@pytest.fixture
def peer_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def peer(db, peer_key, settings):
    settings.REGISTRY_CODE = "MWRR"
    system = TrackingSystem.objects.create(code="NORTH", name="Northern Registry")
    return PeerRegistry.objects.create(tracking_system=system, url="https://north.example",
                                       public_key=ed25519_public_text(peer_key))


def batch_details(serial="NORTH-G7-MN-03-2024-A1B2C3-1 to 40", quantity=40):
    return {"serial_number": serial, "generator_id": "G7", "generator_name": "Iron Range Wind", "fuel": "wind",
            "technology": "onshore_wind", "state": "MN", "capacity_mw": "40", "vintage": "2024-03",
            "eligibilities": ["MN RES"], "quantity": quantity}


def export_body(counterparty, *batches, reference=88, **changes):
    export = {"reference": reference, "recipient": counterparty.public_id, "notes": "Export 88 from Northern Registry",
              "batches": list(batches) or [batch_details()]}
    body = export_message(to="MWRR", export=export) | {"from": "NORTH"}
    body.update(changes)
    return body


def post(client, body, key, *, sender="NORTH", signature=None, raw=None):
    raw_body, headers = message_signed(body, key=key)
    raw_body = raw if raw is not None else raw_body
    headers = {"HTTP_REGISTRY_FROM": sender,
               "HTTP_REGISTRY_SIGNATURE": headers["Registry-Signature"] if signature is None else signature}
    return client.post(INBOX, raw_body, content_type="application/json", **headers)


def test_a_signed_export_becomes_a_pending_import_for_the_recipient(client, peer, peer_key, counterparty):
    response = post(client, export_body(counterparty), peer_key)
    assert response.status_code == 201, response.content
    record = Import.objects.get()
    assert (record.tracking_system, record.recipient, record.recorded_by) == (peer.tracking_system, counterparty, None)
    assert record.original_serial == "NORTH-G7-MN-03-2024-A1B2C3-1 to 40"
    assert record.transfer.status == "pending" and record.certificate.serial_base.startswith("NORTH-G7-MN-03-2024-")
    assert response.json()["imports"] == [record.pk]


def test_an_unsigned_message_changes_nothing(client, peer, peer_key, counterparty):
    before = ledger_state()
    response = post(client, export_body(counterparty), peer_key, signature="")
    assert response.status_code == 401 and response.json()["title"] == "Unsigned message"
    assert ledger_state() == before and not Import.objects.exists()


def test_a_message_signed_by_another_key_changes_nothing(client, peer, counterparty):
    response = post(client, export_body(counterparty), Ed25519PrivateKey.generate())
    assert response.status_code == 401 and response.json()["title"] == "Bad signature"
    assert not Import.objects.exists()


def test_a_changed_body_under_a_good_signature_changes_nothing(client, peer, peer_key, counterparty):
    body = export_body(counterparty)
    raw, headers = message_signed(body, key=peer_key)
    tampered = raw.replace(b'"quantity":40', b'"quantity":41').replace(b"1 to 40", b"1 to 41")
    response = post(client, body, peer_key, raw=tampered, signature=headers["Registry-Signature"])
    assert response.status_code == 401 and not Import.objects.exists()


def test_a_signature_that_is_not_base64_is_a_bad_signature(client, peer, peer_key, counterparty):
    response = post(client, export_body(counterparty), peer_key, signature="not base64!")
    assert response.status_code == 401 and not Import.objects.exists()


def test_an_unknown_sender_changes_nothing(client, peer, peer_key, counterparty):
    response = post(client, export_body(counterparty), peer_key, sender="SOUTH")
    assert response.status_code == 403 and response.json()["title"] == "Unknown registry"
    assert not Import.objects.exists()


def test_a_message_for_another_registry_changes_nothing(client, peer, peer_key, counterparty):
    response = post(client, export_body(counterparty, to="ELSEWHERE"), peer_key)
    assert response.status_code == 403 and response.json()["title"] == "Not for this registry"
    assert not Import.objects.exists()


def test_a_replayed_message_changes_nothing_the_second_time(client, peer, peer_key, counterparty):
    body = export_body(counterparty)
    assert post(client, body, peer_key).status_code == 201
    before = ledger_state()
    again = post(client, body, peer_key)
    assert again.status_code == 409 and "received already" in again.json()["detail"]
    assert ledger_state() == before and Import.objects.count() == 1


@pytest.mark.parametrize(("raw", "detail"), [(b"not json", "not JSON"), (b"[1, 2]", "not a JSON object")])
def test_a_malformed_message_changes_nothing(client, peer, peer_key, counterparty, raw, detail):
    signature = base64.b64encode(peer_key.sign(raw)).decode()
    response = client.post(INBOX, raw, content_type="application/json", HTTP_REGISTRY_FROM="NORTH",
                           HTTP_REGISTRY_SIGNATURE=signature)
    assert response.status_code == 400 and detail in response.json()["detail"]
    assert not Import.objects.exists()


def test_a_message_without_an_id_or_of_an_unknown_type_changes_nothing(client, peer, peer_key, counterparty):
    assert post(client, export_body(counterparty, message_id="x"), peer_key).status_code == 400
    assert post(client, export_body(counterparty, type="gift"), peer_key).status_code == 400
    assert not Import.objects.exists()


def test_wrong_details_are_refused_by_field(client, peer, peer_key, counterparty):
    body = export_body(counterparty)
    body["export"]["batches"][0]["quantity"] = 39
    response = post(client, body, peer_key)
    assert response.status_code == 422
    assert response.json()["problems"]["quantity"] == "Batch 1: The original serials hold 40 certificates, not 39."
    assert not Import.objects.exists()


def test_this_registry_publishes_its_public_key_and_signs_with_it(settings):
    raw, headers = message_signed({"message_id": str(uuid.uuid4())})
    key = signing_key().public_key()
    key.verify(base64.b64decode(headers["Registry-Signature"]), raw)
    assert public_key_text() == ed25519_public_text(signing_key()) and json.loads(raw)
