"""The database itself keeps the ledger: events are append-only, issuances immutable, and a
batch's serial range, certificate and parent never change nor is a batch ever deleted."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION registry_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the ledger is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ledger_event_append_only
    BEFORE UPDATE OR DELETE ON ledger_ledgerevent
    FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();

CREATE TRIGGER certificate_immutable
    BEFORE UPDATE OR DELETE ON certificates_certificate
    FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();

CREATE TRIGGER batch_never_deleted
    BEFORE DELETE ON certificates_certificatebatch
    FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();

CREATE TRIGGER batch_range_immutable
    BEFORE UPDATE OF serial_start, serial_end, quantity, certificate_id, parent_id
    ON certificates_certificatebatch
    FOR EACH ROW
    WHEN (OLD.serial_start IS DISTINCT FROM NEW.serial_start
          OR OLD.serial_end IS DISTINCT FROM NEW.serial_end
          OR OLD.quantity IS DISTINCT FROM NEW.quantity
          OR OLD.certificate_id IS DISTINCT FROM NEW.certificate_id
          OR OLD.parent_id IS DISTINCT FROM NEW.parent_id)
    EXECUTE FUNCTION registry_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS batch_range_immutable ON certificates_certificatebatch;
DROP TRIGGER IF EXISTS batch_never_deleted ON certificates_certificatebatch;
DROP TRIGGER IF EXISTS certificate_immutable ON certificates_certificate;
DROP TRIGGER IF EXISTS ledger_event_append_only ON ledger_ledgerevent;
DROP FUNCTION IF EXISTS registry_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0002_initial"),
        ("certificates", "0001_initial"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
