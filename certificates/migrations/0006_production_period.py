import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
from django.conf import settings
from django.db import migrations, models

import certificates.periods


def vintages_to_periods(apps, schema_editor):
    """Each vintage month (its first day) becomes the month's period: midnight on its first day to
    midnight on the next month's, in the registry's zone (certificates.periods). A certificate never
    changes (ledger 0003's trigger), but for this one conversion of its column."""
    schema_editor.execute("ALTER TABLE certificates_certificate DISABLE TRIGGER certificate_immutable")
    schema_editor.execute(
        "UPDATE certificates_certificate SET period = tstzrange("
        "vintage::timestamp AT TIME ZONE %s, (vintage + interval '1 month')::timestamp AT TIME ZONE %s, '[)')",
        [settings.TIME_ZONE, settings.TIME_ZONE])
    schema_editor.execute("ALTER TABLE certificates_certificate ENABLE TRIGGER certificate_immutable")


def periods_to_vintages(apps, schema_editor):
    schema_editor.execute("ALTER TABLE certificates_certificate DISABLE TRIGGER certificate_immutable")
    schema_editor.execute(
        "UPDATE certificates_certificate SET vintage = (lower(period) AT TIME ZONE %s)::date",
        [settings.TIME_ZONE])
    schema_editor.execute("ALTER TABLE certificates_certificate ENABLE TRIGGER certificate_immutable")


class Migration(migrations.Migration):
    """A certificate's vintage month becomes its production period (certificates.periods): a tstzrange,
    converted with the data; one issuance per generator and period becomes an exclusion constraint
    (no two of a generator's periods overlap)."""

    dependencies = [
        ("certificates", "0005_generator_registration"),
        ("ledger", "0003_append_only"),  # the trigger that keeps a certificate unchanged
    ]

    operations = [
        migrations.RemoveConstraint(model_name="certificate", name="certificate_once_per_vintage"),
        migrations.RemoveConstraint(model_name="certificate", name="certificate_vintage_first_of_month"),
        migrations.RemoveIndex(model_name="certificate", name="certificate_vintage_a29770_idx"),
        migrations.AddField(
            model_name="certificate",
            name="period",
            field=certificates.periods.ProductionPeriodField(
                null=True,
                help_text="When it was produced: [start, end), a month in the registry's zone."),
        ),
        migrations.AlterField(
            model_name="certificate",
            name="vintage",
            field=models.DateField(null=True, help_text="First day of the vintage month."),
        ),
        migrations.RunPython(vintages_to_periods, periods_to_vintages, elidable=False),
        migrations.RemoveField(model_name="certificate", name="vintage"),
        migrations.AlterField(
            model_name="certificate",
            name="period",
            field=certificates.periods.ProductionPeriodField(
                help_text="When it was produced: [start, end), a month in the registry's zone."),
        ),
        migrations.AlterModelOptions(
            name="certificate",
            options={"ordering": ["period", "serial_base"]},
        ),
        migrations.AlterModelOptions(
            name="certificatebatch",
            options={"ordering": ["certificate__period", "certificate_id", "serial_start"],
                     "verbose_name_plural": "certificate batches"},
        ),
        migrations.AddIndex(
            model_name="certificate",
            index=models.Index(fields=["period"], name="certificate_period_cf03ef_idx"),
        ),
        migrations.AddConstraint(
            model_name="certificate",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                expressions=[("generator", "="), ("period", "&&")], name="certificate_once_per_period"),
        ),
        migrations.AddConstraint(
            model_name="certificate",
            constraint=models.CheckConstraint(
                condition=models.Q(("period__isempty", False), ("period__lower_inc", True),
                                   ("period__lower_inf", False), ("period__upper_inc", False),
                                   ("period__upper_inf", False)),
                name="certificate_period_bounded"),
        ),
    ]
