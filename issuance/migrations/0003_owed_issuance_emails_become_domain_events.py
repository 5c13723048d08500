"""The issuance emails' outbox (the issuances not yet told) gives way to the domain events: the issuances
still owed become one certificates.issued event per organization (one email each, as the old sender
grouped them), which the emails consumer sends."""

from collections import defaultdict

from django.db import migrations


def owed_issuances_to_events(apps, schema_editor):
    Issuance = apps.get_model("issuance", "Issuance")
    Event = apps.get_model("events", "Event")
    owed = defaultdict(list)
    for pk, organization_id, issued_at in (Issuance.objects.filter(told_at__isnull=True, quantity__gt=0)
                                           .values_list("pk", "generator__organization_id", "issued_at")
                                           .order_by("pk")):
        owed[organization_id].append((pk, issued_at))
    Event.objects.bulk_create([
        Event(kind="certificates.issued", occurred_at=min(issued_at for _, issued_at in issuances),
              organization_id=organization_id, data={"issuance_ids": [pk for pk, _ in issuances]})
        for organization_id, issuances in sorted(owed.items())
    ])


class Migration(migrations.Migration):

    dependencies = [
        ('issuance', '0002_certificates_issued_email'),
        ('events', '0004_issuance_and_instruction_events'),
    ]

    operations = [
        migrations.RunPython(owed_issuances_to_events, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='issuance',
            name='issuance_notice_owed',
        ),
        migrations.RemoveField(
            model_name='issuance',
            name='notice_claimed_at',
        ),
        migrations.RemoveField(
            model_name='issuance',
            name='told_at',
        ),
    ]
