"""Registry to registry, the sending side (issue #32, item 2): the `registry_messages` consumer of the
domain events sends, after commit, never inside a transaction, and retried with the outbox's backoff until
the other registry has it:
- an export to a tracking system that runs this project (transfer.submitted of an export), as one signed
  `export` message of all its batches: the recipient there sees one pending import per export;
- the recipient's decision on an import such a registry sent (import.accepted, import.rejected), as a
  signed `answer` to it, which confirms or returns the export there with no staff step.
Each message's id is fixed by what it is about, so a message sent again (a worker died after sending, a
retry) is one the other side refuses as received already, which counts as delivered."""

import json
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.db.models import Sum

from events.models import Event
from transfers.models import Transfer

from .messages import export_message, fixed_message_id, message_new, message_signed
from .models import PeerRegistry, ReceivedMessage

SEND_SECONDS = 30
logger = logging.getLogger(__name__)


class SendFailed(Exception):
    """The other registry did not take a message: the claim fails and the outbox tries again later."""


def message_send(peer: PeerRegistry, body: dict) -> tuple[int, bytes, dict[str, str]]:
    """POST the signed `body` to the peer's inbox: its answer's status, bytes and headers (a refusal's
    too, with its problem); SendFailed if the peer could not be reached at all."""
    raw, headers = message_signed(body)
    request = urllib.request.Request(peer.url.rstrip("/") + "/imports/inbox/", data=raw, method="POST",
                                     headers={**headers, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=SEND_SECONDS) as answer:  # noqa: S310 -- staff's address
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read() or b"", dict(error.headers)
    except OSError as error:
        raise SendFailed(f"{peer.tracking_system.name} could not be reached: {error}") from error


def problem_detail(raw: bytes) -> str:
    try:
        problem = json.loads(raw or b"{}")
    except ValueError:
        return ""
    return str(problem.get("detail", "")) if isinstance(problem, dict) else ""


def export_body(transfer: Transfer, peer: PeerRegistry) -> dict:
    """The export's message: each batch as the import the other registry makes of it, for the recipient
    named by its organization id there (the export's recipient account reference)."""
    batches = []
    for item in transfer.items.select_related("batch__certificate__generator").order_by("pk"):
        batch, certificate = item.batch, item.batch.certificate
        generator = certificate.generator
        batches.append({"serial_number": batch.serial_number, "generator_id": generator.code,
                        "generator_name": generator.name, "fuel": certificate.fuel_type,
                        "technology": generator.technology, "state": certificate.state,
                        "capacity_mw": generator.capacity_text, "vintage": certificate.period.api_text,
                        "eligibilities": certificate.eligibilities, "quantity": batch.quantity})
    export = {"reference": transfer.pk, "recipient": transfer.recipient_account_ref.strip(), "batches": batches,
              "notes": f"Export {transfer.pk} from {settings.REGISTRY_NAME}"}
    return export_message(to=peer.tracking_system.code, export=export,
                          message_id=fixed_message_id("export", transfer.pk))


def export_send(event: Event) -> int:
    """Send a pending export to the registry it goes to, if that one runs this project; SendFailed if it
    did not take it (the outbox tries again)."""
    transfer = (Transfer.objects.select_related("tracking_system", "organization")
                .filter(pk=event.subject_id, kind=Transfer.Kind.EXPORT, status=Transfer.Status.PENDING).first())
    peer = transfer and PeerRegistry.objects.select_related("tracking_system").filter(
        tracking_system=transfer.tracking_system).first()
    if peer is None:
        return 0
    status, raw, _ = message_send(peer, export_body(transfer, peer))
    if status == 409 and "received already" in problem_detail(raw):
        return 0  # sent before: the other side has it
    if status != 201:
        raise SendFailed(f"{peer.tracking_system.name} refused export {transfer.pk} ({status}): "
                         f"{problem_detail(raw)}")
    return 1


def answer_send(event: Event) -> int:
    """Send the recipient's decision on an import another registry running this project sent, to that
    registry; SendFailed if it could not be reached or failed (the outbox tries again). A conflict there
    (answered already, or the export decided there meanwhile by its staff) is final: the reconciliation
    reports a disagreement."""
    received = (ReceivedMessage.objects.select_related("tracking_system__peer", "transfer")
                .filter(transfer_id=event.subject_id, type=ReceivedMessage.Type.EXPORT).first())
    if received is None or not hasattr(received.tracking_system, "peer"):
        return 0  # an import staff recorded: answered by staff, by hand
    transfer, peer = received.transfer, received.tracking_system.peer
    decision = {Transfer.Status.COMPLETE: "accepted", Transfer.Status.REJECTED: "rejected"}.get(transfer.status)
    if decision is None:
        return 0
    quantity = transfer.items.aggregate(total=Sum("batch__quantity"))["total"] or 0
    body = message_new(type="answer", to=peer.tracking_system.code,
                       message_id=fixed_message_id("answer", received.message_id),
                       answer={"export_reference": received.export_reference, "in_reply_to": str(received.message_id),
                               "decision": decision, "quantity": quantity})
    status, raw, _ = message_send(peer, body)
    if status == 409:
        logger.warning("%s did not take the answer to its export %s: %s", peer.tracking_system.name,
                       received.export_reference, problem_detail(raw))
        return 0
    if status != 200:
        raise SendFailed(f"{peer.tracking_system.name} refused the answer to its export {received.export_reference} "
                         f"({status}): {problem_detail(raw)}")
    return 1


def registry_message_send(event: Event) -> int:
    """The `registry_messages` consumer's handler, by the event's kind."""
    return export_send(event) if event.kind == Event.Kind.TRANSFER_SUBMITTED else answer_send(event)
