from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION billing_refuse_invoice_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: an issued invoice never changes (corrections are credit notes)',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER invoice_final
    BEFORE UPDATE OR DELETE ON billing_invoice
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_invoice_change();

-- A charge is written once, and put on an invoice once (its invoice_id set, nothing else changed); any
-- other UPDATE, and any DELETE, is refused. The WHEN clause lets the one allowed change through without
-- calling the function (the invoices' UPDATE of a period's charges: bench/billing.py).
CREATE OR REPLACE FUNCTION billing_refuse_charge_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: a charge is only ever put on an invoice, once', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

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

CREATE TRIGGER charge_final_delete
    BEFORE DELETE ON billing_charge
    FOR EACH ROW EXECUTE FUNCTION billing_refuse_charge_change();
"""

REVERSE = """
DROP TRIGGER IF EXISTS charge_final_update ON billing_charge;
DROP TRIGGER IF EXISTS charge_final_delete ON billing_charge;
DROP FUNCTION IF EXISTS billing_refuse_charge_change();
DROP TRIGGER IF EXISTS invoice_final ON billing_invoice;
DROP FUNCTION IF EXISTS billing_refuse_invoice_change();
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_fee_schedules_charges_invoices")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
