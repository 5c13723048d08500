"""The database keeps a matching statement as it was written: its record is what its digest is of."""

from django.db import migrations

FINAL_SQL = """
CREATE FUNCTION matching_statement_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a matching statement is never changed or deleted (statement %)', OLD.retirement_id
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER matching_statement_final BEFORE UPDATE OR DELETE ON matching_matchingstatement
    FOR EACH ROW EXECUTE FUNCTION matching_statement_final();
"""


class Migration(migrations.Migration):
    dependencies = [("matching", "0001_initial")]

    operations = [
        migrations.RunSQL(FINAL_SQL, "DROP TRIGGER matching_statement_final ON matching_matchingstatement; "
                                     "DROP FUNCTION matching_statement_final();"),
    ]
