"""Witnesses (#34): the cosignatures witnesses sent for the log's checkpoints, and the other logs this
registry witnesses."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('publiclog', '0002_log_append_only'),
    ]

    operations = [
        migrations.CreateModel(
            name='WitnessedLog',
            fields=[
                ('origin', models.CharField(max_length=200, primary_key=True, serialize=False)),
                ('size', models.BigIntegerField(default=0)),
                ('root_hash', models.BinaryField(max_length=32, null=True)),
                ('note', models.TextField(blank=True)),
                ('cosigned_at', models.DateTimeField(null=True)),
            ],
        ),
        migrations.CreateModel(
            name='Cosignature',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('witness', models.CharField(max_length=200)),
                ('line', models.TextField()),
                ('cosigned_at', models.DateTimeField()),
                ('checkpoint', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='cosignatures', to='publiclog.checkpoint')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('checkpoint', 'witness'), name='cosignature_once_per_witness')],
            },
        ),
        # A cosignature, once received, is kept as it came (as the checkpoints are: 0002).
        migrations.RunSQL(
            "CREATE TRIGGER publiclog_cosignature_append_only BEFORE UPDATE OR DELETE ON publiclog_cosignature "
            "FOR EACH ROW EXECUTE FUNCTION publiclog_refuse_change();",
            "DROP TRIGGER IF EXISTS publiclog_cosignature_append_only ON publiclog_cosignature;"),
    ]
