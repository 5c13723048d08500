"""The skipped instructions' outbox (the runs to tell the owner of, not yet told) gives way to the domain
events: the runs still owed become one instructions.skipped event per organization (one email each, as
the old sender grouped them), which the emails consumer sends. tell_owner stays: the runs' list shows it."""

from collections import defaultdict

from django.db import migrations


def owed_runs_to_events(apps, schema_editor):
    InstructionRun = apps.get_model("instructions", "InstructionRun")
    Event = apps.get_model("events", "Event")
    owed = defaultdict(list)
    for pk, organization_id, created_at in (InstructionRun.objects.filter(tell_owner=True, told_at__isnull=True)
                                            .values_list("pk", "instruction__organization_id", "created_at")
                                            .order_by("pk")):
        owed[organization_id].append((pk, created_at))
    Event.objects.bulk_create([
        Event(kind="instructions.skipped", occurred_at=min(created_at for _, created_at in runs),
              organization_id=organization_id, data={"run_ids": [pk for pk, _ in runs]})
        for organization_id, runs in sorted(owed.items())
    ])


class Migration(migrations.Migration):

    dependencies = [
        ('instructions', '0002_retirement_option_in_retirements'),
        ('events', '0004_issuance_and_instruction_events'),
    ]

    operations = [
        migrations.RunPython(owed_runs_to_events, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name='instructionrun',
            name='instruction_run_notice_owed',
        ),
        migrations.RemoveField(
            model_name='instructionrun',
            name='told_at',
        ),
    ]
