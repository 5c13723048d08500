"""Charges count MWh as a Decimal (certificates.units), no longer whole certificates: an hourly
certificate (one Wh) was charged a REC's fee. Charges already made keep their values (a monthly
REC is a MWh); issued invoices never change."""

import importlib

from django.db import migrations, models

# The charge's guard names the quantities in its WHEN: PostgreSQL alters no column a trigger's definition
# uses, so the guard (0005's, unchanged) is dropped around the change and made again.
GUARD = importlib.import_module("billing.migrations.0005_charge_final_counts_for_invoice").SQL.split(";", 1)[1]
DROP_GUARD = "DROP TRIGGER charge_final_update ON billing_charge;"


class Migration(migrations.Migration):

    dependencies = [
        ('billing', '0006_credits_notices_reminders'),
    ]

    operations = [
        migrations.RunSQL(DROP_GUARD, GUARD),
        migrations.AlterField(
            model_name='charge',
            name='free_quantity',
            field=models.DecimalField(decimal_places=6, default=0, max_digits=26, verbose_name='free MWh'),
        ),
        migrations.AlterField(
            model_name='charge',
            name='quantity',
            field=models.DecimalField(decimal_places=6, default=0, max_digits=26, verbose_name='MWh'),
        ),
        migrations.AlterField(
            model_name='fee',
            name='free_per_year',
            field=models.PositiveBigIntegerField(
                default=0, help_text='MWh free to each organization each calendar year, before the fee applies (a '
                                     'monthly REC is one; hourly certificates count a MWh per million).'),
        ),
        migrations.AlterField(
            model_name='fee',
            name='unit_price',
            field=models.DecimalField(decimal_places=6, max_digits=12,
                                      help_text='Per MWh: a monthly REC, or a million hourly certificates (Wh).'),
        ),
        migrations.AlterField(
            model_name='freeusage',
            name='used',
            field=models.DecimalField(decimal_places=6, default=0, max_digits=26, verbose_name='MWh'),
        ),
        migrations.RunSQL(GUARD, DROP_GUARD),
    ]
