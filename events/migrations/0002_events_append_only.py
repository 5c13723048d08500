from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION events_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: domain events are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER event_append_only
    BEFORE UPDATE OR DELETE ON events_event
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS event_append_only ON events_event;
DROP FUNCTION IF EXISTS events_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("events", "0001_events_and_claims")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
