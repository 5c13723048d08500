"""Registry to registry, the sending side (issue #32, item 2, in part): an export to a tracking system that
runs this project is sent to its `/imports/inbox/` as signed messages, one per batch, by the
`registry_messages` consumer of the domain events (transfer.submitted of an export): after the export
commits, never inside a transaction, retried with the outbox's backoff until the other registry has it.
Each message's id is fixed by the export and the batch, so a message sent again (a worker died after
sending, a retry) is one the other side refuses as received already, which counts as delivered.

Not built yet: the other side's answer (accepted or rejected) sent back and the export confirmed or
returned on it; until then registry staff confirm the export as for any tracking system."""

import json
import urllib.error
import urllib.request
import uuid

from django.conf import settings

from events.models import Event
from transfers.models import Transfer

from .messages import export_message, message_signed
from .models import PeerRegistry

SEND_SECONDS = 10
MESSAGES = uuid.UUID("5b0e2a8c-6f1d-4c39-9d6e-2f3a8f0b7c41")  # the namespace of message ids


class SendFailed(Exception):
    """The other registry did not take a message: the claim fails and the outbox tries again later."""


def export_message_id(transfer: Transfer, batch_id: int) -> uuid.UUID:
    return uuid.uuid5(MESSAGES, f"{settings.REGISTRY_CODE}:export:{transfer.pk}:{batch_id}")


def export_bodies(transfer: Transfer, peer: PeerRegistry) -> list[dict]:
    """The export's messages: each batch as the import the other registry makes of it, for the recipient
    named by its organization id there (the export's recipient account reference)."""
    bodies = []
    for item in transfer.items.select_related("batch__certificate__generator").order_by("pk"):
        batch, certificate = item.batch, item.batch.certificate
        generator = certificate.generator
        details = {"serial_number": batch.serial_number, "generator_id": generator.code,
                   "generator_name": generator.name, "fuel": certificate.fuel_type, "technology": generator.technology,
                   "state": certificate.state, "capacity_mw": generator.capacity_text,
                   "vintage": certificate.period.api_text, "eligibilities": certificate.eligibilities,
                   "quantity": batch.quantity, "recipient": transfer.recipient_account_ref.strip(),
                   "notes": f"Export {transfer.pk} from {settings.REGISTRY_NAME}"}
        bodies.append(export_message(to=peer.tracking_system.code, details=details,
                                     message_id=export_message_id(transfer, batch.pk))
                      | {"export_reference": transfer.pk})
    return bodies


def export_send(event: Event) -> int:
    """The consumer's handler: send a pending export's messages to the registry it goes to, if that one runs
    this project; raise SendFailed if any was not taken (the outbox retries the event)."""
    transfer = (Transfer.objects.select_related("tracking_system")
                .filter(pk=event.subject_id, kind=Transfer.Kind.EXPORT, status=Transfer.Status.PENDING).first())
    peer = transfer and PeerRegistry.objects.select_related("tracking_system").filter(
        tracking_system=transfer.tracking_system).first()
    if peer is None:
        return 0
    sent = 0
    for body in export_bodies(transfer, peer):
        raw, headers = message_signed(body)
        request = urllib.request.Request(peer.url.rstrip("/") + "/imports/inbox/", data=raw, method="POST",
                                         headers={**headers, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=SEND_SECONDS) as answer:  # noqa: S310 -- staff's address
                answer.read()
        except urllib.error.HTTPError as error:
            problem = _problem(error)
            if error.code == 409 and "received already" in problem.get("detail", ""):
                continue  # sent before: the other side has it
            raise SendFailed(f"{peer.tracking_system.name} refused export {transfer.pk}'s message "
                             f"({error.code}): {problem.get('detail', '')}") from error
        except OSError as error:
            raise SendFailed(f"{peer.tracking_system.name} could not be reached: {error}") from error
        sent += 1
    return sent


def _problem(error: urllib.error.HTTPError) -> dict:
    try:
        problem = json.loads(error.read() or b"{}")
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}
