"""Registry to registry, the sending side (#32 item 2, in part): an export to a registry running this
project goes out, after commit, as signed messages through the event outbox, retried while the other
side cannot be reached, and taken there once however often it is sent. The other registry here is this
one over HTTP (a live server, configured as its own peer), so that both sides' code runs."""

import datetime
import socket

import pytest
from django.utils import timezone

from events.models import Claim, Event
from events.services import events_consume
from imports.messages import public_key_text
from imports.models import Import, PeerRegistry
from imports.sending import SendFailed, export_send
from registry.models import TrackingSystem
from transfers.services import Destination, TransferLine, transfer_create

pytestmark = pytest.mark.django_db(transaction=True)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def loopback(live_server, settings, no_wakeups):
    """This registry as the tracking system SELF that runs this project (its code for itself too)."""
    settings.REGISTRY_CODE = "SELF"
    system = TrackingSystem.objects.create(code="SELF", name="Loopback Registry")
    return PeerRegistry.objects.create(tracking_system=system, url=live_server.url, public_key=public_key_text())


def export(batch, trader, org, peer, counterparty, quantity=30):
    return transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, quantity)],
                           destination=Destination.export(peer.tracking_system, counterparty.name,
                                                          counterparty.public_id))


def test_an_export_to_a_registry_running_this_project_arrives_there_once(batch, trader, org, counterparty,
                                                                         loopback):
    transfer = export(batch, trader, org, loopback, counterparty)
    assert events_consume(consumer="registry_messages") == 1
    record = Import.objects.get()
    moved = transfer.items.get().batch
    assert record.original_serial == moved.serial_number and record.recipient == counterparty
    assert record.quantity == 30 and record.transfer.status == "pending"
    assert not Claim.objects.filter(consumer="registry_messages").exists()
    # Sent again (a worker that died after sending): the other side has it, and records nothing more.
    export_send(Event.objects.get(kind=Event.Kind.TRANSFER_SUBMITTED, subject_id=transfer.pk))
    assert Import.objects.count() == 1


def test_an_unreachable_registry_is_tried_again_until_it_takes_the_export(batch, trader, org, counterparty,
                                                                         loopback, live_server):
    PeerRegistry.objects.filter(pk=loopback.pk).update(url=f"http://127.0.0.1:{closed_port()}")
    export(batch, trader, org, loopback, counterparty)
    assert events_consume(consumer="registry_messages") == 0 and not Import.objects.exists()
    PeerRegistry.objects.filter(pk=loopback.pk).update(url=live_server.url)  # the network is back
    later = timezone.now() + datetime.timedelta(hours=2)
    assert events_consume(consumer="registry_messages", now=later) == 1
    assert Import.objects.count() == 1


def test_an_export_to_another_tracking_system_sends_nothing(batch, trader, org, counterparty, tracking_system,
                                                            loopback):
    transfer_create(organization=org, user=trader, lines=[TransferLine(batch.pk, 10)],
                    destination=Destination.export(tracking_system, "Cascade"))
    events_consume(consumer="registry_messages")
    assert not Import.objects.exists()


def test_an_export_sent_by_two_workers_at_once_is_imported_once(batch, trader, org, counterparty, loopback):
    from .threads import at_once

    transfer = export(batch, trader, org, loopback, counterparty)
    submitted = Event.objects.get(kind=Event.Kind.TRANSFER_SUBMITTED, subject_id=transfer.pk)
    outcomes = []

    def send():
        try:
            outcomes.append(export_send(submitted))
        except SendFailed as failure:  # the loser of the race to the same serials: tried again later
            outcomes.append(str(failure))
        return None

    at_once(send, workers=3)
    assert Import.objects.count() == 1 and outcomes.count(1) == 1
    assert all(outcome == 0 or "overlap" in str(outcome) for outcome in outcomes if outcome != 1)
    assert export_send(submitted) == 0  # the retry: received already
