"""A retirement's public record, frozen when first published (retirement_records_freeze): the
database lets it be set once and never changed after."""

from django.db import migrations, models

SQL = """
CREATE OR REPLACE FUNCTION retirement_record_set_once() RETURNS trigger AS $$
BEGIN
    IF OLD.record IS NOT NULL AND NEW.record IS DISTINCT FROM OLD.record THEN
        RAISE EXCEPTION 'A retirement''s published record is not changed (retirement %)', OLD.transfer_id
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER transfers_retirement_record_set_once BEFORE UPDATE OF record ON transfers_retirement
    FOR EACH ROW EXECUTE FUNCTION retirement_record_set_once();
"""

REVERSE = """
DROP TRIGGER IF EXISTS transfers_retirement_record_set_once ON transfers_retirement;
DROP FUNCTION IF EXISTS retirement_record_set_once();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('retirements', '0002_retirementoption_program'),
    ]

    operations = [
        migrations.AddField(
            model_name='retirement',
            name='record',
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(SQL, REVERSE),
    ]
