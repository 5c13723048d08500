"""A retirement's details are part of its public proof: the database refuses to delete them or to
change any of them but whether the retirement is private."""

from django.db import migrations

SQL = """
CREATE TRIGGER retirement_never_deleted
    BEFORE DELETE ON transfers_retirement
    FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();

CREATE TRIGGER retirement_details_final
    BEFORE UPDATE ON transfers_retirement
    FOR EACH ROW
    WHEN (OLD.transfer_id IS DISTINCT FROM NEW.transfer_id
          OR OLD.option_id IS DISTINCT FROM NEW.option_id
          OR OLD.compliance_period IS DISTINCT FROM NEW.compliance_period
          OR OLD.period_start IS DISTINCT FROM NEW.period_start
          OR OLD.period_end IS DISTINCT FROM NEW.period_end
          OR OLD.beneficiary IS DISTINCT FROM NEW.beneficiary
          OR OLD.reference IS DISTINCT FROM NEW.reference)
    EXECUTE FUNCTION registry_refuse_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS retirement_details_final ON transfers_retirement;
DROP TRIGGER IF EXISTS retirement_never_deleted ON transfers_retirement;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("transfers", "0006_retirements"),
        ("ledger", "0003_append_only"),  # registry_refuse_change()
    ]

    operations = [migrations.RunSQL(SQL, REVERSE)]
