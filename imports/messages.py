"""Registry to registry (issue #32, item 2): the signed messages two registries running this project send
each other, and their verification, which comes before anything changes.

A message is a JSON object, sent as the body of a POST to the other registry's `/imports/inbox/`, with two
headers: `Registry-From`, the sender's code as the receiver knows it (its TrackingSystem code there), and
`Registry-Signature`, the base64 of the sender's Ed25519 signature over the body's exact bytes. The body
names its `message_id` (a UUID: a message received twice changes nothing the second time), its `type`,
`from` and `to` (the two registries' codes: a message for another registry is refused), and `sent_at`.
Its types:
- `export`: one export, all its batches (`export.batches`, each the import the receiver makes of it), under
  the exporter's `reference`, for the recipient named by its organization id there;
- `answer`: the recipient there accepted or rejected that export (`answer.decision`), naming its
  `export_reference` and the export message it answers (`in_reply_to`);
- `reconcile`: what the sender sent to and received from the receiver (imports.reconciling), answered
  with a signed `reconcile` message of the receiver's own."""

import base64
import binascii
import datetime
import decimal
import json
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from certificates.periods import ProductionPeriod
from registry.models import Organization
from utilities.signing_keys import ed25519_key, ed25519_public_text

from .models import PeerRegistry
from .values import ImportDetails

FROM_HEADER, SIGNATURE_HEADER = "Registry-From", "Registry-Signature"
MESSAGE_TYPES = ("export", "answer", "reconcile")
DECISIONS = ("accepted", "rejected")
MOST_BYTES = 4 * 1024 * 1024  # an export of ~10,000 batches (a selection's most) in one message
MESSAGES = uuid.UUID("5b0e2a8c-6f1d-4c39-9d6e-2f3a8f0b7c41")  # the namespace of the fixed message ids


class MessageRefused(Exception):
    """Why a message changes nothing, as the problem (RFC 9457) answered: its HTTP status and words."""

    def __init__(self, status: int, title: str, detail: str):
        self.status, self.title, self.detail = status, title, detail
        super().__init__(detail)


def signing_key() -> Ed25519PrivateKey:
    return ed25519_key(setting="IMPORTS_SIGNING_KEY", required=settings.IMPORTS_SIGNING_KEY_REQUIRED,
                       development="imports development signing key",
                       used_for="the messages to other registries are signed with it")


def public_key_text() -> str:
    """What this registry publishes for the registries it trades with to configure (PeerRegistry.public_key)."""
    return ed25519_public_text(signing_key())


def message_signed(body: dict, *, key: Ed25519PrivateKey | None = None) -> tuple[bytes, dict[str, str]]:
    """A message's bytes and headers, signed with this registry's key (or `key`)."""
    raw = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    signature = base64.b64encode((key or signing_key()).sign(raw)).decode()
    return raw, {FROM_HEADER: settings.REGISTRY_CODE, SIGNATURE_HEADER: signature}


def message_new(*, type: str, to: str, message_id: uuid.UUID | None = None, **content) -> dict:  # noqa: A002
    """A message's body of `type` to the registry `to`, with its `content` (to sign with message_signed)."""
    return {"message_id": str(message_id or uuid.uuid4()), "type": type, "from": settings.REGISTRY_CODE, "to": to,
            "sent_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"), **content}


def export_message(*, to: str, export: dict, message_id: uuid.UUID | None = None) -> dict:
    """An export message's body: `export` as export_details reads it."""
    return message_new(type="export", to=to, message_id=message_id, export=export)


def fixed_message_id(kind: str, key: object) -> uuid.UUID:
    """The id of this registry's message of `kind` about `key` (an export's transfer id here; the export
    message an answer answers): the same however often it is sent, so that a repeat is known there."""
    return uuid.uuid5(MESSAGES, f"{settings.REGISTRY_CODE}:{kind}:{key}")


def message_verified(*, raw: bytes, sender: str, signature: str) -> tuple[PeerRegistry, dict]:
    """The sending registry and the message's body, once every check holds; else MessageRefused. The
    checks, in order: a known sender, a signature at all, its signature by that sender's key over these
    exact bytes, then a JSON object from that sender to this registry, with a message id and a known type."""
    peer = PeerRegistry.objects.select_related("tracking_system").filter(
        tracking_system__code=(sender or "").strip(), tracking_system__is_active=True).first()
    if peer is None:
        raise MessageRefused(403, "Unknown registry", f"No registry running this project is configured here as "
                                                      f"“{(sender or '')[:40]}”.")
    if not signature:
        raise MessageRefused(401, "Unsigned message", f"A message must carry its {SIGNATURE_HEADER} header.")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(peer.public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), raw)
    except (InvalidSignature, binascii.Error, ValueError) as error:
        raise MessageRefused(401, "Bad signature", f"The signature is not {peer.tracking_system.name}'s over this "
                                                   "message; nothing changed.") from error
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _malformed("The message is not JSON.") from error
    if not isinstance(body, dict):
        raise _malformed("The message is not a JSON object.")
    if body.get("from") != peer.tracking_system.code or body.get("to") != settings.REGISTRY_CODE:
        raise MessageRefused(403, "Not for this registry", f"The message is from “{body.get('from')}” to "
                                                           f"“{body.get('to')}”, not from {peer.tracking_system.code} "
                                                           f"to {settings.REGISTRY_CODE}.")
    try:
        body["message_id"] = uuid.UUID(str(body.get("message_id")))
    except ValueError as error:
        raise _malformed("The message has no message_id (a UUID).") from error
    if body.get("type") not in MESSAGE_TYPES:
        raise _malformed(f"Unknown message type “{body.get('type')}”.")
    return peer, body


def _malformed(detail: str) -> MessageRefused:
    return MessageRefused(400, "Malformed message", detail)


def _whole(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def export_details(peer: PeerRegistry, export: dict) -> tuple[int, list[ImportDetails]]:
    """The export's reference there and the imports it asks for, one per batch, as ImportDetails (their
    problems() are the service's to ask); MessageRefused if it is not an export at all."""
    export = export if isinstance(export, dict) else {}
    reference, batches = _whole(export.get("reference")), export.get("batches")
    if reference is None or not isinstance(batches, list) or not batches or not all(
            isinstance(batch, dict) for batch in batches):
        raise _malformed("An export names its reference (a whole number) and its batches (a list of objects).")
    recipient = Organization.objects.filter(public_id=str(export.get("recipient", ""))).first()
    notes = export.get("notes") if isinstance(export.get("notes"), str) else ""
    return reference, [_batch_details(peer, batch, recipient=recipient, notes=notes) for batch in batches]


def _batch_details(peer: PeerRegistry, batch: dict, *, recipient: Organization | None, notes: str) -> ImportDetails:
    def text(name: str) -> str:
        value = batch.get(name, "")
        return value if isinstance(value, str) else ""

    try:
        capacity = decimal.Decimal(text("capacity_mw"))
    except decimal.InvalidOperation:
        capacity = None
    eligibilities = batch.get("eligibilities")
    return ImportDetails(
        tracking_system=peer.tracking_system, original_serial=text("serial_number"),
        generator_id=text("generator_id"), generator_name=text("generator_name"), fuel=text("fuel"),
        technology=text("technology"), state=text("state"), capacity_mw=capacity,
        period=ProductionPeriod.parse_month(text("vintage")), quantity=_whole(batch.get("quantity")),
        recipient=recipient, notes=notes,
        eligibilities=[name for name in eligibilities if isinstance(name, str)] if isinstance(eligibilities, list)
        else [])


def answer_read(answer: dict) -> tuple[int, uuid.UUID, bool, int]:
    """An answer's export reference, the export message it answers, whether it was accepted, and the
    quantity the recipient decided on; MessageRefused if any is missing or not of its kind."""
    answer = answer if isinstance(answer, dict) else {}
    reference, quantity = _whole(answer.get("export_reference")), _whole(answer.get("quantity"))
    try:
        in_reply_to = uuid.UUID(str(answer.get("in_reply_to")))
    except ValueError:
        in_reply_to = None
    if reference is None or quantity is None or in_reply_to is None or answer.get("decision") not in DECISIONS:
        raise _malformed("An answer names its export_reference and quantity (whole numbers), the message it "
                         f"answers (in_reply_to, a UUID) and its decision ({' or '.join(DECISIONS)}).")
    return reference, in_reply_to, answer["decision"] == "accepted", quantity
