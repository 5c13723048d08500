"""RetirementOption and Retirement moved here from the transfers app: their tables stay
(transfers_retirementoption, transfers_retirement: db_table), so this migration changes Django's state
only."""

import django.db.models.deletion
import transfers.models
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('transfers', '0008_mass_upload_kind'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[
            migrations.CreateModel(
                name='RetirementOption',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(max_length=120, unique=True)),
                    ('type', models.CharField(choices=[('state_rps', 'State RPS'), ('municipal_rps', 'Municipal RPS'), ('utility_green_pricing', 'Utility Green Pricing'), ('green_e', 'Green-e'), ('beneficial_ownership', 'Beneficial Ownership'), ('federal', 'Federal'), ('voluntary_claim', 'Voluntary claim')], max_length=32)),
                    ('reason', models.CharField(choices=[('compliance', 'Compliance'), ('voluntary', 'Voluntary')], max_length=16, verbose_name='main reason')),
                    ('state', models.CharField(blank=True, help_text='The state or province it counts toward, if one (e.g. MN).', max_length=8, verbose_name='state or province')),
                    ('requires_compliance_period', models.BooleanField(default=False)),
                    ('requires_beneficiary', models.BooleanField(default=False)),
                    ('is_active', models.BooleanField(default=True, help_text='Only active options are offered.', verbose_name='active')),
                ],
                options={
                    'db_table': 'transfers_retirementoption',
                    'ordering': ['name'],
                },
            ),
            migrations.CreateModel(
                name='Retirement',
                fields=[
                    ('transfer', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, primary_key=True, related_name='retirement', serialize=False, to='transfers.transfer')),
                    ('compliance_period', models.PositiveSmallIntegerField(blank=True, null=True)),
                    ('period_start', models.DateField(blank=True, null=True, verbose_name='reporting period start')),
                    ('period_end', models.DateField(blank=True, null=True, verbose_name='reporting period end')),
                    ('beneficiary', models.CharField(blank=True, max_length=200, verbose_name='beneficiary name')),
                    ('reference', models.CharField(default=transfers.models.retirement_reference, editable=False, max_length=20, unique=True)),
                    ('is_private', models.BooleanField(default=False, verbose_name='private')),
                    ('option', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='retirements', to='retirements.retirementoption')),
                ],
                options={
                    'db_table': 'transfers_retirement',
                    'constraints': [models.CheckConstraint(condition=models.Q(('period_start__isnull', True), ('period_end__isnull', True), ('period_start__lte', models.F('period_end')), _connector='OR'), name='retirement_period_in_order')],
                },
            ),
        ]),
    ]
