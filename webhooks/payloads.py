"""The body of a delivery: one function builds it, for every event type."""

import datetime
import uuid

from django.conf import settings
from django.db.models import Count, Sum
from django.urls import reverse

from certificates.serials import format_serial
from registry.models import Organization
from registry.selectors import organization_link
from transfers.models import MassTransferUpload, Transfer
from utilities.display import iso_utc

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
        "url": organization_link(settings.SITE_URL + reverse("transfers:mass_detail", args=[upload.pk]),
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
