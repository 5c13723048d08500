from django.db import migrations

# The charge's guard (0002) again, now that a late fee names the invoice it is for (0003): that too is
# never changed.
SQL = """
DROP TRIGGER charge_final_update ON billing_charge;
CREATE TRIGGER charge_final_update
    BEFORE UPDATE ON billing_charge
    FOR EACH ROW WHEN (NOT (
        OLD.invoice_id IS NULL AND NEW.invoice_id IS NOT NULL
        AND (NEW.organization_id, NEW.kind, NEW.event_id, NEW.schedule_id, NEW.occurred_at, NEW.year, NEW.quantity,
             NEW.free_quantity, NEW.unit_price, NEW.amount, NEW.currency, NEW.description, NEW.for_invoice_id)
            IS NOT DISTINCT FROM
            (OLD.organization_id, OLD.kind, OLD.event_id, OLD.schedule_id, OLD.occurred_at, OLD.year, OLD.quantity,
             OLD.free_quantity, OLD.unit_price, OLD.amount, OLD.currency, OLD.description, OLD.for_invoice_id)))
    EXECUTE FUNCTION billing_refuse_charge_change();
"""

REVERSE = """
DROP TRIGGER charge_final_update ON billing_charge;
CREATE TRIGGER charge_final_update
    BEFORE UPDATE ON billing_charge
    FOR EACH ROW WHEN (NOT (
        OLD.invoice_id IS NULL AND NEW.invoice_id IS NOT NULL
        AND (NEW.organization_id, NEW.kind, NEW.event_id, NEW.schedule_id, NEW.occurred_at, NEW.year, NEW.quantity,
             NEW.free_quantity, NEW.unit_price, NEW.amount, NEW.currency, NEW.description)
            IS NOT DISTINCT FROM
            (OLD.organization_id, OLD.kind, OLD.event_id, OLD.schedule_id, OLD.occurred_at, OLD.year, OLD.quantity,
             OLD.free_quantity, OLD.unit_price, OLD.amount, OLD.currency, OLD.description)))
    EXECUTE FUNCTION billing_refuse_charge_change();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0004_feeschedule_reactivation_fee")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
