"""The database keeps the log append-only: no leaf, node or checkpoint is ever changed or deleted."""

from django.db import migrations

TABLES = ["publiclog_logleaf", "publiclog_lognode", "publiclog_checkpoint"]

SQL = """
CREATE OR REPLACE FUNCTION publiclog_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the public log is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
""" + "".join(f"""
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION publiclog_refuse_change();
""" for table in TABLES)

REVERSE = "".join(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};\n" for table in TABLES) + \
    "DROP FUNCTION IF EXISTS publiclog_refuse_change();\n"


class Migration(migrations.Migration):
    dependencies = [("publiclog", "0001_log_leaves_nodes_checkpoints")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
