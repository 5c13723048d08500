"""The body of a delivery: one function builds it, for every event type."""

import datetime
import uuid

from django.conf import settings
from django.db.models import Count, Sum
from django.urls import reverse

from certificates.serials import format_serial
from mass_uploads.models import MassTransferUpload
from registry.models import Organization
from registry.selectors import organization_link
from transfers.models import Transfer
from utilities.display import iso_utc

from .models import EventType

# A mass transfer can hold 100,000 batches: the body lists the first ones and says how many there are;
# the transfer's page and its summary hold them all.
ITEMS_IN_PAYLOAD = 100


def _moment(moment: datetime.datetime | None) -> str | None:
    return iso_utc(moment)  # as the API writes its times


def _transfer_data(transfer: Transfer, organization: Organization) -> dict:
    items = list(transfer.items.select_related("batch__certificate").order_by("pk")[:ITEMS_IN_PAYLOAD])
    totals = transfer.items.aggregate(count=Count("pk"), quantity=Sum("batch__quantity"))
    account = transfer.destination_account
    data = {
        "id": transfer.pk,
        "kind": transfer.kind,
        "status": transfer.status,
        "quantity": totals["quantity"] or 0,
        "sender": transfer.organization.public_id,
        "recipient": transfer.recipient_organization.public_id if transfer.recipient_organization else None,
        # an account of the organization told, never the other party's
        "destination_account": account.public_id if account and account.organization_id == organization.pk
        else None,
        "submitted_at": _moment(transfer.submitted_at),
        "decided_at": _moment(transfer.decided_at),
        "items": [{"serial_number": format_serial(item.batch.certificate.serial_base, item.batch.serial_start,
                                                  item.batch.serial_end),
                   "quantity": item.batch.quantity} for item in items],
        "item_count": totals["count"] or 0,
        "url": organization_link(settings.SITE_URL + reverse("transfers:detail", args=[transfer.pk]), organization),
    }
    if transfer.kind == Transfer.Kind.EXPORT:
        data["tracking_system"] = transfer.tracking_system.name
    retirement = getattr(transfer, "retirement", None)
    if retirement is not None:
        data["retirement"] = retirement.snapshot()
    return data


def _upload_data(upload: MassTransferUpload, organization: Organization) -> dict:
    return {
        "id": upload.pk,
        "kind": upload.kind,
        "status": upload.status,
        "filename": upload.filename,
        "row_count": upload.row_count,
        "error_count": len(upload.errors),
        "transfer_ids": list(upload.transfers.order_by("pk").values_list("pk", flat=True)),
        "finished_at": _moment(upload.finished_at),
        "url": organization_link(settings.SITE_URL + reverse("mass_uploads:detail", args=[upload.pk]),
                                 organization),
    }


def event_payload(*, event_type: str, event_id: uuid.UUID, organization: Organization, created_at: datetime.datetime,
                  transfer: Transfer | None = None, upload: MassTransferUpload | None = None) -> dict:
    """What `organization`'s endpoints are told of one event: `data` holds the transfer (its parties
    by public id, quantities, serial ranges, its page) or the mass upload (status, rows, errors)."""
    data = ({"transfer": _transfer_data(transfer, organization)} if transfer is not None
            else {"upload": _upload_data(upload, organization)})
    return {"id": str(event_id), "type": event_type, "created_at": _moment(created_at),
            "organization": organization.public_id, "data": data}


# The body of each event as JSON Schema (draft 2020-12, as OpenAPI 3.1 takes it): what the API's
# schema publishes under `webhooks` (api.schema), and what tests/test_webhook_schema.py checks real
# bodies against. Kept next to the functions above, which build those bodies.
_MOMENT = {"type": "string", "format": "date-time", "description": "ISO 8601, with its UTC offset."}
_MOMENT_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_ORGANIZATION_ID = {"type": "string", "pattern": "^MM[0-9]+$", "examples": ["MM00412"]}

TRANSFER_SCHEMA = {
    "type": "object",
    "description": "The transfer as it is when the event is fanned out (seconds after the step).",
    "required": ["id", "kind", "status", "quantity", "sender", "recipient", "destination_account", "submitted_at",
                 "decided_at", "items", "item_count", "url"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": list(Transfer.Kind.values)},
        "status": {"enum": list(Transfer.Status.values)},
        "quantity": {"type": "integer", "minimum": 0, "description": "Certificates in the transfer."},
        "sender": _ORGANIZATION_ID,
        "recipient": {**_ORGANIZATION_ID, "type": ["string", "null"],
                      "description": "The receiving organization of a transfer to another one."},
        "destination_account": {"type": ["string", "null"], "examples": ["ACT-00031"],
                                "description": "The account it went to, when it is the told organization's own."},
        "submitted_at": _MOMENT_OR_NULL,
        "decided_at": _MOMENT_OR_NULL,
        "items": {"type": "array", "maxItems": ITEMS_IN_PAYLOAD, "description": f"The first {ITEMS_IN_PAYLOAD}.",
                  "items": {"type": "object", "required": ["serial_number", "quantity"], "additionalProperties": False,
                            "properties": {"serial_number": {"type": "string"},
                                           "quantity": {"type": "integer", "minimum": 1}}}},
        "item_count": {"type": "integer", "minimum": 0, "description": "How many items it has in all."},
        "url": {"type": "string", "format": "uri", "description": "The transfer's page."},
        "tracking_system": {"type": "string", "description": "An export's receiving tracking system."},
        "retirement": {
            "type": "object", "description": "A retirement's details.", "additionalProperties": False,
            "required": ["reference", "option", "compliance_period", "period_start", "period_end", "beneficiary"],
            "properties": {"reference": {"type": "string"}, "option": {"type": "string"},
                           "compliance_period": {"type": ["integer", "null"]},
                           "period_start": {"type": ["string", "null"], "format": "date"},
                           "period_end": {"type": ["string", "null"], "format": "date"},
                           "beneficiary": {"type": "string"}}},
    },
}
UPLOAD_SCHEMA = {
    "type": "object",
    "description": "The mass upload, finished (completed or failed).",
    "required": ["id", "kind", "status", "filename", "row_count", "error_count", "transfer_ids", "finished_at", "url"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "kind": {"enum": list(MassTransferUpload.Kind.values)},
        "status": {"enum": list(MassTransferUpload.Status.values)},
        "filename": {"type": "string"},
        "row_count": {"type": ["integer", "null"]},
        "error_count": {"type": "integer", "minimum": 0},
        "transfer_ids": {"type": "array", "items": {"type": "integer"}, "description": "The transfers it made."},
        "finished_at": _MOMENT_OR_NULL,
        "url": {"type": "string", "format": "uri", "description": "The upload's page, with every error."},
    },
}


def event_schema(event_type: str) -> dict:
    """The JSON Schema of the body of one event type's deliveries."""
    upload = event_type == EventType.UPLOAD_FINISHED
    return {
        "type": "object",
        "required": ["id", "type", "created_at", "organization", "data"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "format": "uuid",
                   "description": "The event's id: also the webhook-id header, the same on every attempt."},
            "type": {"const": event_type},
            "created_at": {**_MOMENT, "description": "When the step happened (ISO 8601, with its UTC offset)."},
            "organization": {**_ORGANIZATION_ID, "description": "The organization told (its endpoints')."},
            "data": {"type": "object", "additionalProperties": False,
                     "required": ["upload" if upload else "transfer"],
                     "properties": {"upload": UPLOAD_SCHEMA} if upload else {"transfer": TRANSFER_SCHEMA}},
        },
    }
