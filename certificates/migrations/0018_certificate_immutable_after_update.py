"""A certificate's immutability checked after the update, not before (the same rule, 0010's), before the
table gets a generated column (0019's `unit`).

PostgreSQL refuses to create a BEFORE trigger whose WHEN reads the whole new row of a table with a
generated column. It lets the column be added next to such a trigger, but a dump of the database then
would not load again (the trigger is created after the table), nor this migration be reversed. An AFTER
trigger reads the new row with its generated columns, and its refusal undoes the update all the same."""

from django.db import migrations

TRIGGER = """
DROP TRIGGER IF EXISTS certificate_immutable ON certificates_certificate;
CREATE TRIGGER certificate_immutable
    {when} UPDATE ON certificates_certificate
    FOR EACH ROW
    WHEN (OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
          OR (to_jsonb(OLD) - 'voided_at') IS DISTINCT FROM (to_jsonb(NEW) - 'voided_at'))
    EXECUTE FUNCTION registry_refuse_change();
"""
AFTER, BEFORE = TRIGGER.format(when="AFTER"), TRIGGER.format(when="BEFORE")


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0017_fewer_index_entries_per_issued_interval'),
    ]

    operations = [migrations.RunSQL(AFTER, BEFORE)]
