"""A certificate's immutability checked after the update, not before (the same rule, 0010's).

PostgreSQL refuses to create a BEFORE trigger whose WHEN reads the whole new row of a table with a
generated column (0018's `unit`): it allowed the column's adding, but a dump of the database would not
load again (pg_restore stops on the trigger). An AFTER trigger reads the new row with its generated
columns, and its refusal undoes the update all the same."""

from django.db import migrations

AFTER = """
DROP TRIGGER IF EXISTS certificate_immutable ON certificates_certificate;
CREATE TRIGGER certificate_immutable
    AFTER UPDATE ON certificates_certificate
    FOR EACH ROW
    WHEN (OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
          OR (to_jsonb(OLD) - 'voided_at') IS DISTINCT FROM (to_jsonb(NEW) - 'voided_at'))
    EXECUTE FUNCTION registry_refuse_change();
"""

BEFORE = """
DROP TRIGGER IF EXISTS certificate_immutable ON certificates_certificate;
CREATE TRIGGER certificate_immutable
    BEFORE UPDATE ON certificates_certificate
    FOR EACH ROW
    WHEN (OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
          OR (to_jsonb(OLD) - 'voided_at') IS DISTINCT FROM (to_jsonb(NEW) - 'voided_at'))
    EXECUTE FUNCTION registry_refuse_change();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0018_certificate_unit'),
    ]

    operations = [migrations.RunSQL(AFTER, BEFORE)]
