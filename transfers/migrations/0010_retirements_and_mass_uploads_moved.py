"""RetirementOption and Retirement moved to the retirements app, MassTransferUpload to the
mass_uploads app. Their tables stay (db_table), so the models leave this app's state only; their
content types (and so the staff's permissions and the admin's log) follow them."""

import django.db.models.deletion
from django.db import migrations, models

MOVED = {"retirementoption": "retirements", "retirement": "retirements", "masstransferupload": "mass_uploads"}


def content_types_moved(apps, schema_editor, *, forward=True):
    """The moved models' content types take their new app's label (or, backwards, the old one)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model, app_label in MOVED.items():
        before, after = ("transfers", app_label) if forward else (app_label, "transfers")
        if not content_type.objects.filter(app_label=after, model=model).exists():
            content_type.objects.filter(app_label=before, model=model).update(app_label=after)


def content_types_back(apps, schema_editor):
    content_types_moved(apps, schema_editor, forward=False)


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('instructions', '0002_retirement_option_in_retirements'),
        ('mass_uploads', '0001_initial'),
        ('retirements', '0001_initial'),
        ('transfers', '0009_owed_emails_become_domain_events'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='transfer',
                name='mass_upload',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                        related_name='transfers', to='mass_uploads.masstransferupload'),
            ),
            migrations.RemoveIndex(
                model_name='masstransferupload',
                name='transfers_m_organiz_5f8b84_idx',
            ),
            migrations.RemoveConstraint(
                model_name='retirement',
                name='retirement_period_in_order',
            ),
            migrations.RemoveField(
                model_name='retirement',
                name='option',
            ),
            migrations.RemoveField(
                model_name='retirement',
                name='transfer',
            ),
            migrations.DeleteModel(
                name='MassTransferUpload',
            ),
            migrations.DeleteModel(
                name='RetirementOption',
            ),
            migrations.DeleteModel(
                name='Retirement',
            ),
        ]),
        migrations.RunPython(content_types_moved, content_types_back),
    ]
