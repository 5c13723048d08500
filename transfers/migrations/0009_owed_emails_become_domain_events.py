"""The emails' outbox (TransferNotification) gives way to the domain events (events.Event), which the
emails and the webhooks each consume. A row still owed is owed as its event: both its email and its
webhook deliveries (owed only when the row was consumed) are then done by the consumers. A mass
upload's rows are emailed one by one: their upload's grouped emails were sent by another task, and
its upload.finished event does not exist."""

from django.db import migrations

EVENT_KINDS = {
    "transfer_initiated": "transfer.submitted",
    "transfer_accepted": "transfer.accepted",
    "transfer_rejected": "transfer.rejected",
    "transfer_withdrawn": "transfer.withdrawn",
    "transfer_expired": "transfer.expired",
    "export_confirmed": "export.confirmed",
    "export_rejected": "export.rejected",
    "retirement": "retirement.made",
}


def owed_rows_to_events(apps, schema_editor):
    TransferNotification = apps.get_model("transfers", "TransferNotification")
    Event = apps.get_model("events", "Event")
    owed = TransferNotification.objects.select_related("transfer").order_by("id")
    Event.objects.bulk_create([
        Event(kind=EVENT_KINDS[row.event_kind], occurred_at=row.created_at,
              organization_id=row.transfer.organization_id,
              other_organization_id=row.transfer.recipient_organization_id, subject_id=row.transfer_id,
              data={"transfer_kind": row.transfer.kind, "mass_upload_id": None})
        for row in owed if row.event_kind in EVENT_KINDS
    ], batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("transfers", "0008_mass_upload_kind"),
        ("events", "0002_events_append_only"),
    ]

    operations = [
        migrations.RunPython(owed_rows_to_events, migrations.RunPython.noop),
        migrations.DeleteModel(name="TransferNotification"),
    ]
