"""Registry to registry (#32 item 2), the answer back: the recipient's acceptance or rejection of an import
another registry running this project sent goes back to it, signed, through the outbox; the exporting
registry then confirms the export (its batches exported) or returns the batches, with no staff step, exactly
once. An unsigned, wrongly signed, replayed or malformed answer changes nothing. The other registry here
is this one over HTTP (a live server, configured as its own peer), so that both sides' code runs."""

import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.urls import reverse

from certificates.models import CertificateBatch
from events.models import Claim, Event
from events.services import events_consume
from imports.messages import fixed_message_id, message_new, message_signed
from imports.models import Import, ReceivedMessage
from imports.sending import answer_send
from ledger.models import LedgerEvent
from registry.activity import event_sentence
from transfers.models import Transfer
from transfers.services import Destination, TransferLine, transfer_accept, transfer_create, transfer_reject

from .conftest import ledger_state
from .test_imports_sending import loopback  # noqa: F401 -- the fixture
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)
INBOX = reverse("imports:inbox")


def export_of(org, trader, counterparty, peer, *lines):
    return transfer_create(organization=org, user=trader, lines=[TransferLine(pk, quantity) for pk, quantity in lines],
                           destination=Destination.export(peer.tracking_system, counterparty.name,
                                                          counterparty.public_id))


@pytest.fixture
def exported(batch, trader, org, counterparty, loopback):  # noqa: F811
    """An export of 30 certificates to the loopback registry, arrived there: its import, pending."""
    transfer = export_of(org, trader, counterparty, loopback, (batch.pk, 30))
    assert events_consume(consumer="registry_messages") == 1
    return transfer, Import.objects.get().transfer


def exported_batches(transfer):
    return [item.batch for item in transfer.items.select_related("batch")]


def test_an_import_accepted_there_confirms_the_export_here_with_no_staff_step(
        exported, counterparty, counterparty_trader, counterparty_account, loopback):  # noqa: F811
    export, incoming = exported
    recorded = LedgerEvent.objects.get(kind=LedgerEvent.Kind.IMPORT_RECORDED, transfer=incoming)
    assert event_sentence(recorded, counterparty).startswith(
        f"Loopback Registry sent import {incoming.pk}: 30 certificates from Loopback Registry, serial ")
    transfer_accept(transfer=incoming, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    assert events_consume(consumer="registry_messages") == 1  # the answer
    export.refresh_from_db()
    assert export.status == Transfer.Status.COMPLETE and export.decided_by is None
    assert [batch.status for batch in exported_batches(export)] == [CertificateBatch.Status.EXPORTED]
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.EXPORT_CONFIRMED, transfer=export)
    assert event.actor is None and event_sentence(event, export.organization) == \
        f"Loopback Registry accepted export transfer {export.pk}."
    assert Event.objects.filter(kind=Event.Kind.EXPORT_CONFIRMED, subject_id=export.pk).count() == 1
    answer = ReceivedMessage.objects.get(type=ReceivedMessage.Type.ANSWER)
    assert (answer.transfer, answer.decision) == (export, "accepted")
    assert not Claim.objects.filter(consumer="registry_messages").exists()


def test_an_import_rejected_there_returns_the_export_s_batches_here(
        exported, org, counterparty, counterparty_trader, loopback):  # noqa: F811
    export, incoming = exported
    transfer_reject(transfer=incoming, user=counterparty_trader, organization=counterparty, note="Not ours")
    assert events_consume(consumer="registry_messages") == 1
    export.refresh_from_db()
    assert export.status == Transfer.Status.REJECTED
    batch = exported_batches(export)[0]
    assert batch.status == CertificateBatch.Status.ACTIVE and batch.account.organization == org
    event = LedgerEvent.objects.get(kind=LedgerEvent.Kind.EXPORT_REJECTED, transfer=export)
    assert event_sentence(event, org).startswith(f"Loopback Registry rejected export transfer {export.pk}")


def test_an_answer_sent_again_or_by_two_workers_at_once_acts_once(
        exported, counterparty, counterparty_trader, counterparty_account, loopback):  # noqa: F811
    export, incoming = exported
    transfer_accept(transfer=incoming, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    decided = Event.objects.get(kind=Event.Kind.IMPORT_ACCEPTED, subject_id=incoming.pk)
    sent = at_once(lambda: answer_send(decided), workers=3)
    assert sorted(sent) == [0, 0, 1]  # one taken; the others were received already
    assert answer_send(decided) == 0  # a worker that died after sending, run again
    assert LedgerEvent.objects.filter(kind=LedgerEvent.Kind.EXPORT_CONFIRMED, transfer=export).count() == 1
    assert Event.objects.filter(kind=Event.Kind.EXPORT_CONFIRMED, subject_id=export.pk).count() == 1


def test_an_export_of_several_batches_is_one_import_there_decided_at_once(
        issue, trader, org, counterparty, counterparty_trader, counterparty_account, loopback):  # noqa: F811
    first, second, third = issue(100), issue(200), issue(50)
    export = export_of(org, trader, counterparty, loopback, (first.pk, 100), (second.pk, 20), (third.pk, 50))
    assert events_consume(consumer="registry_messages") == 1
    incoming = Transfer.objects.get(kind=Transfer.Kind.IMPORT)
    records = Import.objects.filter(transfer=incoming).order_by("pk")
    assert [record.quantity for record in records] == [100, 20, 50] and incoming.items.count() == 3
    assert [record.original_serial for record in records] == [b.serial_number for b in exported_batches(export)]
    transfer_accept(transfer=incoming, user=counterparty_trader, organization=counterparty,
                    account=counterparty_account)
    events_consume(consumer="registry_messages")
    export.refresh_from_db()
    assert export.status == Transfer.Status.COMPLETE
    assert {batch.status for batch in exported_batches(export)} == {CertificateBatch.Status.EXPORTED}


# The answer's checks: each fails without its check ------------------------------------------------------

def answer_body(export, *, decision="accepted", quantity=30, in_reply_to=None, message_id=None):
    return message_new(type="answer", to="SELF", message_id=message_id, answer={
        "export_reference": export.pk, "decision": decision, "quantity": quantity,
        "in_reply_to": str(in_reply_to or fixed_message_id("export", export.pk))})


def post(client, body, *, key=None, signature=None):
    raw, headers = message_signed(body, key=key)
    return client.post(INBOX, raw, content_type="application/json", HTTP_REGISTRY_FROM="SELF",
                       HTTP_REGISTRY_SIGNATURE=headers["Registry-Signature"] if signature is None else signature)


def still_pending(export) -> bool:
    export.refresh_from_db()
    return export.status == Transfer.Status.PENDING and not ReceivedMessage.objects.filter(type="answer").exists()


def test_an_unsigned_answer_changes_nothing(client, exported):
    export, _ = exported
    before = ledger_state()
    response = post(client, answer_body(export), signature="")
    assert response.status_code == 401 and response.json()["title"] == "Unsigned message"
    assert still_pending(export) and ledger_state() == before


def test_an_answer_signed_by_another_key_changes_nothing(client, exported):
    export, _ = exported
    response = post(client, answer_body(export), key=Ed25519PrivateKey.generate())
    assert response.status_code == 401 and response.json()["title"] == "Bad signature" and still_pending(export)


def test_a_replayed_answer_changes_nothing_the_second_time(client, exported):
    export, _ = exported
    body = answer_body(export)
    assert post(client, body).status_code == 200
    before = ledger_state()
    again = post(client, body)
    assert again.status_code == 409 and "received already" in again.json()["detail"]
    assert ledger_state() == before


def test_a_second_answer_to_an_answered_export_changes_nothing(client, exported):
    export, _ = exported
    assert post(client, answer_body(export)).status_code == 200
    before = ledger_state()
    other = post(client, answer_body(export, decision="rejected"))  # another message id, the other decision
    assert other.status_code == 409 and "received already" in other.json()["detail"]
    assert ledger_state() == before and Transfer.objects.get(pk=export.pk).status == Transfer.Status.COMPLETE


@pytest.mark.parametrize(("changes", "status", "field"), [
    ({"decision": "maybe"}, 400, None),
    ({"quantity": "30"}, 400, None),
    ({"in_reply_to": "not a uuid"}, 400, None),
    ({"quantity": 31}, 422, "quantity"),
    ({"in_reply_to": uuid.uuid4()}, 422, "export_reference"),
])
def test_a_malformed_or_mistaken_answer_changes_nothing(client, exported, changes, status, field):
    export, _ = exported
    before = ledger_state()
    response = post(client, answer_body(export, **changes))
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()["problems"]
    assert still_pending(export) and ledger_state() == before


def test_an_answer_about_an_export_to_another_tracking_system_changes_nothing(
        client, batch, trader, org, counterparty, tracking_system, loopback):  # noqa: F811
    elsewhere = transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                                destination=Destination.export(tracking_system, "Cascade"))
    response = post(client, answer_body(elsewhere, quantity=10))
    assert response.status_code == 422 and still_pending(elsewhere)


def test_an_export_decided_by_staff_meanwhile_is_not_decided_again(client, exported, staff):
    from transfers.services import export_reject

    export, _ = exported
    export_reject(transfer=export, user=staff, note="They phoned")
    before = ledger_state()
    response = post(client, answer_body(export))
    assert response.status_code == 409 and "decided here already" in response.json()["detail"]
    assert ledger_state() == before and not ReceivedMessage.objects.filter(type="answer").exists()
