"""An issuance can be rolled back (issue 30): kept, with who, when and why, and final from then on
(the database refuses any change to it); the month and its report may then be issued again, once
while in force."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FINAL = """
CREATE TRIGGER issuance_rolled_back_final
    BEFORE UPDATE ON issuance_issuance
    FOR EACH ROW
    WHEN (OLD.rolled_back_at IS NOT NULL)
    EXECUTE FUNCTION registry_refuse_change();
CREATE TRIGGER issuance_never_deleted
    BEFORE DELETE ON issuance_issuance
    FOR EACH ROW EXECUTE FUNCTION registry_refuse_change();
"""

NOT_FINAL = """
DROP TRIGGER IF EXISTS issuance_never_deleted ON issuance_issuance;
DROP TRIGGER IF EXISTS issuance_rolled_back_final ON issuance_issuance;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('certificates', '0010_voided_batches_and_certificates'),
        ('issuance', '0003_owed_issuance_emails_become_domain_events'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='issuance',
            name='issuance_once_per_month',
        ),
        migrations.AddField(
            model_name='issuance',
            name='rollback_reason',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name='issuance',
            name='rolled_back_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='issuance',
            name='rolled_back_by',
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='issuance',
            name='report',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='issuances', to='issuance.generationreport'),
        ),
        migrations.AddConstraint(
            model_name='issuance',
            constraint=models.UniqueConstraint(condition=models.Q(('rolled_back_at__isnull', True)), fields=('generator', 'month'), name='issuance_once_per_month'),
        ),
        migrations.AddConstraint(
            model_name='issuance',
            constraint=models.UniqueConstraint(condition=models.Q(('rolled_back_at__isnull', True)), fields=('report',), name='issuance_once_per_report'),
        ),
        migrations.AddConstraint(
            model_name='issuance',
            constraint=models.CheckConstraint(condition=models.Q(('rolled_back_at__isnull', True), models.Q(('rolled_back_by__isnull', False), models.Q(('rollback_reason', ''), _negated=True)), _connector='OR'), name='issuance_rollback_says_who_and_why'),
        ),
        migrations.RunSQL(FINAL, NOT_FINAL),
    ]
