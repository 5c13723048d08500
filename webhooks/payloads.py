"""The body of a delivery: one function builds it, for every event type."""

import datetime
import uuid

from django.conf import settings
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from billing.models import Invoice
from billing.selectors import billing_today, invoice_status
from billing.serializers import InvoiceSerializer
from certificates.models import CertificateBatch
from issuance.models import Correction, Issuance
from mass_uploads.models import MassTransferUpload
from registry.models import Organization
from registry.selectors import organization_link
from transfers.models import Transfer
from transfers.selectors import transfer_items
from transfers.serializers import RetirementDetailsSerializer, TransferItemSerializer, TransferSerializer
from utilities.display import iso_utc

from .models import EventType

# A mass transfer can hold 100,000 batches: the body lists the first ones and says how many there are;
# the transfer's page and its summary hold them all.
ITEMS_IN_PAYLOAD = 100


def _moment(moment: datetime.datetime | None) -> str | None:
    return iso_utc(moment)  # as the API writes its times


class WebhookTransferSerializer(TransferSerializer):
    """The transfer as the API answers it (transfers.serializers: the same fields, the same
    words), with its first items, its retirement's details and its page for the organization told."""

    item_count = serializers.IntegerField(help_text="How many batches moved in all.")
    items = TransferItemSerializer(source="items_shown", many=True)
    retirement = RetirementDetailsSerializer(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, transfer: Transfer) -> str:
        return organization_link(settings.SITE_URL + reverse("transfers:detail", args=[transfer.pk]),
                                 self.context["organization"])


def _transfer_data(transfer: Transfer, organization: Organization) -> dict:
    totals = transfer.items.aggregate(count=Count("pk"), quantity=Sum("batch__quantity"))
    transfer.total_quantity, transfer.item_count = totals["quantity"] or 0, totals["count"] or 0
    transfer.items_shown = list(transfer_items(transfer)[:ITEMS_IN_PAYLOAD])
    with timezone.override(datetime.UTC):  # its times as the API writes them (api.views)
        return WebhookTransferSerializer(transfer, context={"organization": organization}).data


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


def _rollback_data(issuance: Issuance, organization: Organization) -> dict:
    batch = (CertificateBatch.objects.select_related("account")
             .filter(certificate_id=issuance.certificate_id, parent__isnull=True).first())
    return {
        "id": issuance.pk,
        "generator": issuance.generator.code,
        "period": str(issuance.period),
        "mwh": str(issuance.mwh),
        "quantity": issuance.quantity,
        "serial_number": issuance.serial_range or None,
        "account": batch.account.public_id if batch else None,
        "reason": issuance.rollback_reason,
        "rolled_back_at": _moment(issuance.rolled_back_at),
        "url": organization_link(settings.SITE_URL + reverse("issuance:issuance", args=[issuance.pk]), organization),
    }


def _voided_data(voided: dict) -> dict:
    batches = (CertificateBatch.objects.filter(pk__in=voided["batch_ids"]).select_related("certificate", "account")
               .order_by("certificate_id", "serial_start"))
    return {"quantity": voided["quantity"], "reason": voided["reason"],
            "batches": [{"id": batch.pk, "serial_number": batch.serial_number, "quantity": batch.quantity,
                         "account": batch.account.public_id} for batch in batches]}


def _corrections_data(corrections: list[Correction], organization: Organization) -> list[dict]:
    return [{
        "id": correction.pk, "generator": correction.generator.code, "period": str(correction.period),
        "mwh_before": str(correction.mwh_before), "mwh_after": str(correction.mwh_after),
        "difference": str(correction.difference), "quantity": correction.quantity,
        "serial_number": correction.serial_range or None, "debit_paid": correction.debit_paid,
        "shortfall": correction.shortfall, "voided": correction.voided, "owed": correction.debit_out,
        "carry_out": str(correction.carry_out), "note": correction.decision_note,
        "decided_at": _moment(correction.decided_at),
        "url": organization_link(settings.SITE_URL + reverse("issuance:issuance", args=[correction.issuance_id]),
                                 organization),
    } for correction in corrections]


class WebhookInvoiceSerializer(InvoiceSerializer):
    """The invoice as the API answers it (billing.serializers), with the Billing tab's page."""

    url = serializers.SerializerMethodField()

    def get_url(self, invoice: Invoice) -> str:
        return organization_link(settings.SITE_URL + reverse("billing:billing"), self.context["organization"])


def _invoice_data(invoice: Invoice, organization: Organization) -> dict:
    """`invoice` annotated with its balance (billing.selectors.invoices_with_balance)."""
    invoice.status = invoice_status(invoice, billing_today())
    with timezone.override(datetime.UTC):  # its times as the API writes them (api.views)
        return WebhookInvoiceSerializer(invoice, context={"organization": organization}).data


def event_payload(*, event_type: str, event_id: uuid.UUID, organization: Organization, created_at: datetime.datetime,
                  transfer: Transfer | None = None, upload: MassTransferUpload | None = None,
                  issuance: Issuance | None = None, voided: dict | None = None,
                  corrections: list[Correction] | None = None, invoice: Invoice | None = None) -> dict:
    """What `organization`'s endpoints are told of one event: `data` holds the transfer (as the API
    answers it, with its first items and its page), the mass upload (status, rows, errors), the issuance
    rolled back (its generator, period, the certificates voided and the reason), the certificates
    voided (each batch, and the reason) or the invoice (as the API answers it, with the Billing tab)."""
    if invoice is not None:
        data = {"invoice": _invoice_data(invoice, organization)}
    elif transfer is not None:
        data = {"transfer": _transfer_data(transfer, organization)}
    elif upload is not None:
        data = {"upload": _upload_data(upload, organization)}
    elif issuance is not None:
        data = {"issuance": _rollback_data(issuance, organization)}
    elif corrections is not None:
        data = {"corrections": _corrections_data(corrections, organization)}
    else:
        data = {"voided": _voided_data(voided)}
    return {"id": str(event_id), "type": event_type, "created_at": _moment(created_at),
            "organization": organization.public_id, "data": data}


# The body of each event as JSON Schema (draft 2020-12, as OpenAPI 3.1 takes it): what the API's
# schema publishes under `webhooks` (api.schema), and what tests/test_webhook_schema.py checks real
# bodies against. Kept next to the functions above, which build those bodies.
_MOMENT = {"type": "string", "format": "date-time", "description": "ISO 8601, with its UTC offset."}
_MOMENT_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_ORGANIZATION_ID = {"type": "string", "pattern": "^MM[0-9]+$", "examples": ["MM00412"]}

def _component(name: str) -> dict:
    """A schema of the API's own (`name`: a component of its OpenAPI document, made from
    transfers.serializers), referred to rather than written again."""
    return {"$ref": f"#/components/schemas/{name}"}


TRANSFER_SCHEMA = {
    "type": "object",
    "description": "The transfer as the API answers it (`Transfer`), as it is when the event is fanned out (seconds "
                   "after the step), with its first items, its retirement's details and its page.",
    "allOf": [_component("Transfer")],
    "required": ["item_count", "items", "retirement", "url"],
    "properties": {
        "item_count": {"type": "integer", "minimum": 0, "description": "How many batches moved in all."},
        "items": {"type": "array", "maxItems": ITEMS_IN_PAYLOAD, "description": f"The first {ITEMS_IN_PAYLOAD}.",
                  "items": _component("TransferItem")},
        "retirement": {"oneOf": [_component("RetirementDetails"), {"type": "null"}],
                       "description": "A retirement's details; null for any other transfer."},
        "url": {"type": "string", "format": "uri", "description": "The transfer's page."},
    },
    "unevaluatedProperties": False,
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


_SERIAL_NUMBER = {"type": "string", "description": "As the dashboard shows it: `<serial base>-<start> to <end>`."}
ROLLBACK_SCHEMA = {
    "type": "object",
    "description": "The issuance registry staff rolled back: its certificates are voided (final, in no balance) and "
                   "its month's generation report is submitted again for correction.",
    "required": ["id", "generator", "period", "mwh", "quantity", "serial_number", "account", "reason",
                 "rolled_back_at", "url"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "integer"},
        "generator": {"type": "string", "description": "The generator's ID."},
        "period": {"type": "string", "description": "The production month, `MM/YYYY`."},
        "mwh": {"type": "string", "description": "The MWh reported for the month (a decimal, as text)."},
        "quantity": {"type": "integer", "minimum": 0, "description": "The certificates voided (0: none was issued)."},
        "serial_number": {"oneOf": [_SERIAL_NUMBER, {"type": "null"}]},
        "account": {"type": ["string", "null"], "description": "The account the voided certificates were in."},
        "reason": {"type": "string", "description": "Registry staff's reason."},
        "rolled_back_at": _MOMENT,
        "url": {"type": "string", "format": "uri", "description": "The issuance's page."},
    },
}
VOIDED_SCHEMA = {
    "type": "object",
    "description": "Certificates registry staff voided (final, in no balance), with the reason.",
    "required": ["quantity", "reason", "batches"],
    "additionalProperties": False,
    "properties": {
        "quantity": {"type": "integer", "minimum": 1},
        "reason": {"type": "string"},
        "batches": {"type": "array", "items": {
            "type": "object", "required": ["id", "serial_number", "quantity", "account"], "additionalProperties": False,
            "properties": {"id": {"type": "integer"}, "serial_number": _SERIAL_NUMBER,
                           "quantity": {"type": "integer", "minimum": 1},
                           "account": {"type": "string", "description": "The account that held them."}}}},
    },
}
_DECIMAL = {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{3}$", "description": "MWh, a decimal as text."}
CORRECTIONS_SCHEMA = {
    "type": "array",
    "description": "Corrections of issued months registry staff approved (prior period adjustments): more generation "
                   "pays what the generator owes, then is issued as new certificates of the month (their own serial "
                   "range); less is a shortfall, owed from the generator's next issuances or voided.",
    "items": {
        "type": "object",
        "required": ["id", "generator", "period", "mwh_before", "mwh_after", "difference", "quantity",
                     "serial_number", "debit_paid", "shortfall", "voided", "owed", "carry_out", "note", "decided_at",
                     "url"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "generator": {"type": "string", "description": "The generator's ID."},
            "period": {"type": "string", "description": "The production month corrected, `MM/YYYY`."},
            "mwh_before": _DECIMAL, "mwh_after": _DECIMAL, "difference": _DECIMAL,
            "quantity": {"type": "integer", "minimum": 0, "description": "New certificates issued."},
            "serial_number": {"oneOf": [_SERIAL_NUMBER, {"type": "null"}]},
            "debit_paid": {"type": "integer", "minimum": 0, "description": "Certificates owed, paid first."},
            "shortfall": {"type": "integer", "minimum": 0, "description": "Certificates issued too many."},
            "voided": {"type": "integer", "minimum": 0, "description": "Of the shortfall, voided at once."},
            "owed": {"type": "integer", "minimum": 0,
                     "description": "What the generator owes after it, taken from its next issuances."},
            "carry_out": _DECIMAL,
            "note": {"type": "string", "description": "Registry staff's note."},
            "decided_at": _MOMENT,
            "url": {"type": "string", "format": "uri", "description": "The month's issuance page."},
        },
    },
}
INVOICE_SCHEMA = {
    "type": "object",
    "description": "The invoice as the API answers it (`Invoice`), as it is when the event is fanned out (seconds "
                   "after it), with the Billing tab's page.",
    "allOf": [_component("Invoice")],
    "required": ["url"],
    "properties": {"url": {"type": "string", "format": "uri", "description": "The organization's Billing tab."}},
    "unevaluatedProperties": False,
}
# The key of each event type's `data`, and its schema.
DATA_SCHEMAS = {EventType.INVOICE_ISSUED: ("invoice", INVOICE_SCHEMA),
                EventType.INVOICE_PAID: ("invoice", INVOICE_SCHEMA),
                EventType.INVOICE_OVERDUE: ("invoice", INVOICE_SCHEMA),
                EventType.UPLOAD_FINISHED: ("upload", UPLOAD_SCHEMA),
                EventType.ISSUANCE_ROLLED_BACK: ("issuance", ROLLBACK_SCHEMA),
                EventType.CERTIFICATES_VOIDED: ("voided", VOIDED_SCHEMA),
                EventType.ISSUANCE_ADJUSTED: ("corrections", CORRECTIONS_SCHEMA)}


def event_schema(event_type: str) -> dict:
    """The JSON Schema of the body of one event type's deliveries."""
    key, data_schema = DATA_SCHEMAS.get(event_type, ("transfer", TRANSFER_SCHEMA))
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
            "data": {"type": "object", "additionalProperties": False, "required": [key],
                     "properties": {key: data_schema}},
        },
    }
