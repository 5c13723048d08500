"""The MassTransferUpload model moved here from the transfers app: its table stays
(transfers_masstransferupload, db_table), so this migration changes Django's state only."""

import django.db.models.deletion
import django.utils.timezone
import transfers.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('transfers', '0008_mass_upload_kind'),
        ('registry', '0007_certificates_issued_email'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='MassTransferUpload',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('filename', models.CharField(max_length=255)),
                    ('sha256', models.CharField(max_length=64)),
                    ('size', models.PositiveIntegerField()),
                    ('row_count', models.PositiveIntegerField(blank=True, null=True)),
                    ('errors', models.JSONField(blank=True, default=list)),
                    ('attempts', models.PositiveSmallIntegerField(default=0)),
                    ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                    ('started_at', models.DateTimeField(blank=True, null=True)),
                    ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ('kind', models.CharField(choices=[('transfer', 'Transfer'), ('retirement', 'Retirement')], default='transfer', max_length=16)),
                    ('file', models.FileField(upload_to=transfers.models.mass_upload_path)),
                    ('status', models.CharField(choices=[('held', 'Awaiting confirmation'), ('queued', 'Queued'), ('processing', 'Processing'), ('failed', 'Failed'), ('completed', 'Completed'), ('discarded', 'Discarded')], default='queued', max_length=16)),
                    ('organization', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='mass_uploads', to='registry.organization')),
                    ('uploaded_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ],
                options={
                    'db_table': 'transfers_masstransferupload',
                    'ordering': ['-created_at', '-id'],
                    'indexes': [models.Index(fields=['organization', 'sha256', 'created_at'], name='transfers_m_organiz_5f8b84_idx')],
                },
            ),
        ]),
    ]
