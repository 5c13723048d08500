"""Voided batches and certificates (issue 30: a rolled-back issuance, a correction's debit).

A voided batch is final, as a retired one is: the database refuses any change to it. A certificate
stays immutable but for one change, made once: its voided_at is set when its issuance is rolled back
(every batch of it voided), and a voided certificate no longer holds its generator's period, which
may then be issued again. Its deletion is refused, as before."""

import django.contrib.postgres.constraints
from django.conf import settings
from django.db import migrations, models

FINAL = """
DROP TRIGGER IF EXISTS certificate_immutable ON certificates_certificate;
CREATE TRIGGER certificate_never_deleted
    BEFORE DELETE ON certificates_certificate
    FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();
CREATE TRIGGER certificate_immutable
    BEFORE UPDATE ON certificates_certificate
    FOR EACH ROW
    WHEN (OLD.voided_at IS NOT NULL OR NEW.voided_at IS NULL
          OR (to_jsonb(OLD) - 'voided_at') IS DISTINCT FROM (to_jsonb(NEW) - 'voided_at'))
    EXECUTE FUNCTION registry_refuse_change();
CREATE TRIGGER batch_voided_final
    BEFORE UPDATE ON certificates_certificatebatch
    FOR EACH ROW
    WHEN (OLD.status = 'voided')
    EXECUTE FUNCTION registry_refuse_change();
"""

NOT_FINAL = """
DROP TRIGGER IF EXISTS batch_voided_final ON certificates_certificatebatch;
DROP TRIGGER IF EXISTS certificate_immutable ON certificates_certificate;
DROP TRIGGER IF EXISTS certificate_never_deleted ON certificates_certificate;
CREATE TRIGGER certificate_immutable
    BEFORE UPDATE OR DELETE ON certificates_certificate
    FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();
"""


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0009_generator_annual_review'),
        ('ledger', '0005_retired_batches_final'),  # registry_refuse_change and the triggers it replaces
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='certificate',
            name='certificate_once_per_period',
        ),
        migrations.AddField(
            model_name='certificate',
            name='voided_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='certificatebatch',
            name='status',
            field=models.CharField(choices=[('active', 'Active'), ('pending', 'Pending'), ('retired', 'Retired'), ('exported', 'Exported'), ('superseded', 'Superseded'), ('voided', 'Voided')], default='active', max_length=16),
        ),
        migrations.AddConstraint(
            model_name='certificate',
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(condition=models.Q(('voided_at__isnull', True)), expressions=[('generator', '='), ('period', '&&')], name='certificate_once_per_period'),
        ),
        migrations.RunSQL(FINAL, NOT_FINAL),
    ]
