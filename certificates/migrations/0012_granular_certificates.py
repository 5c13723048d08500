"""Granular (hourly, EnergyTag) certificates (issue 33): a generator may be granular; a certificate
carries its expiry and the generator's emissions factor with its source; its quantity is a 64-bit
integer (Wh: an hour of a 3 GW plant is over 2**31; the batches' serials were bigint already). An
expired batch is final, as a retired or voided one: the database refuses any change to it."""

import certificates.periods
from django.conf import settings
from django.db import migrations, models

FINAL = """
CREATE TRIGGER batch_expired_final
    BEFORE UPDATE ON certificates_certificatebatch
    FOR EACH ROW
    WHEN (OLD.status = 'expired')
    EXECUTE FUNCTION registry_refuse_change();
"""
NOT_FINAL = "DROP TRIGGER IF EXISTS batch_expired_final ON certificates_certificatebatch;"


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_initial'),
        ('certificates', '0011_adjustment_certificates'),
        ('registry', '0010_organization_billing_hold'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='certificate',
            name='emissions_factor',
            field=models.DecimalField(blank=True, decimal_places=3, max_digits=8, null=True, verbose_name='emissions factor (gCO2e/kWh)'),
        ),
        migrations.AddField(
            model_name='certificate',
            name='emissions_factor_source',
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name='certificate',
            name='expires_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='generator',
            name='emissions_factor',
            field=models.DecimalField(blank=True, decimal_places=3, max_digits=8, null=True, verbose_name='emissions factor (gCO2e/kWh)'),
        ),
        migrations.AddField(
            model_name='generator',
            name='emissions_factor_source',
            field=models.CharField(blank=True, max_length=200, verbose_name='source of the emissions factor'),
        ),
        migrations.AddField(
            model_name='generator',
            name='granular',
            field=models.BooleanField(default=False, help_text='Its generation is reported per interval of at most an hour, and a certificate is issued for each interval, in Wh.', verbose_name='granular (hourly)'),
        ),
        migrations.AlterField(
            model_name='certificate',
            name='period',
            field=certificates.periods.ProductionPeriodField(help_text="When it was produced: [start, end), a month in the registry's zone or an interval of at most an hour."),
        ),
        migrations.AlterField(
            model_name='certificate',
            name='quantity',
            field=models.PositiveBigIntegerField(),
        ),
        migrations.AlterField(
            model_name='certificatebatch',
            name='status',
            field=models.CharField(choices=[('active', 'Active'), ('pending', 'Pending'), ('retired', 'Retired'), ('exported', 'Exported'), ('superseded', 'Superseded'), ('voided', 'Voided'), ('expired', 'Expired')], default='active', max_length=16),
        ),
        migrations.AddIndex(
            model_name='certificate',
            index=models.Index(condition=models.Q(('expires_at__isnull', False)), fields=['expires_at'], name='certificate_expires'),
        ),
        migrations.AddConstraint(
            model_name='generator',
            constraint=models.CheckConstraint(condition=models.Q(('emissions_factor__isnull', True), ('emissions_factor__gte', 0), _connector='OR'), name='generator_emissions_factor_not_negative'),
        ),
        migrations.RunSQL(FINAL, NOT_FINAL),
    ]
