"""RetirementOption moved to the retirements app (its table stays): the foreign key now names it
there, in Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('instructions', '0001_initial'),
        ('retirements', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.AlterField(
                model_name='instructiondestination',
                name='retirement_option',
                field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT,
                                        related_name='+', to='retirements.retirementoption'),
            ),
        ]),
    ]
