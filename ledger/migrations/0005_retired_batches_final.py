"""A retired batch is final: the database refuses any change to it, as it refuses other ledger
rewrites (a retired certificate never moves again, nor returns to active)."""

from django.db import migrations

SQL = """
CREATE TRIGGER batch_retired_final
    BEFORE UPDATE ON certificates_certificatebatch
    FOR EACH ROW
    WHEN (OLD.status = 'retired')
    EXECUTE FUNCTION registry_refuse_change();
"""

REVERSE = "DROP TRIGGER IF EXISTS batch_retired_final ON certificates_certificatebatch;"


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_drop_duplicate_batch_index"),
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
