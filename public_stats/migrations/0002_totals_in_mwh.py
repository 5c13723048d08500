"""The summary tables count MWh as a Decimal (certificates.units), no longer whole certificates: an
hourly certificate's Wh were added to months' MWh as if each were one. The monthly rows keep their
values (a REC is a MWh); a registry that issued hourly certificates before this migration rebuilds
the tables once after it: `manage.py rebuild_public_stats`."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('public_stats', '0001_summary_tables'),
    ]

    operations = [
        migrations.AlterField(
            model_name='eligibilitytotal',
            name='quantity',
            field=models.DecimalField(decimal_places=6, default=0, max_digits=26, verbose_name='MWh'),
        ),
        migrations.AlterField(
            model_name='monthlytotal',
            name='quantity',
            field=models.DecimalField(decimal_places=6, default=0, max_digits=26, verbose_name='MWh'),
        ),
    ]
