
import django.contrib.postgres.fields
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    """Participants register generators: technology, the registration's who and when, staff's review note,
    the staff's queue (a proxy model), and the sequence a participant's generator ID is drawn from
    (certificates.generators.generator_code_next)."""

    dependencies = [
        ('accounts', '0002_initial'),
        ('certificates', '0004_generator_status'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='GeneratorAwaitingApproval',
            fields=[
            ],
            options={
                'verbose_name': 'generator awaiting approval',
                'verbose_name_plural': 'generators awaiting approval',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('certificates.generator',),
        ),
        migrations.AddField(
            model_name='generator',
            name='created_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddField(
            model_name='generator',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='generator',
            name='review_note',
            field=models.TextField(blank=True, help_text="Registry staff's note when they send it back."),
        ),
        migrations.AddField(
            model_name='generator',
            name='reviewed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='generator',
            name='reviewed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='generator',
            name='submitted_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='generator',
            name='technology',
            field=models.CharField(blank=True, choices=[('onshore_wind', 'Onshore wind'), ('offshore_wind', 'Offshore wind'), ('solar_pv', 'Solar photovoltaic'), ('solar_thermal', 'Concentrating solar thermal'), ('run_of_river', 'Run-of-river hydro'), ('reservoir_hydro', 'Reservoir hydro'), ('biomass_steam', 'Biomass steam turbine'), ('anaerobic_digestion', 'Anaerobic digester'), ('landfill_gas_engine', 'Landfill gas engine'), ('landfill_gas_turbine', 'Landfill gas turbine')], max_length=32),
        ),
        migrations.AlterField(
            model_name='generator',
            name='capacity_mw',
            field=models.DecimalField(decimal_places=2, default=0, max_digits=8, verbose_name='capacity (MW)'),
        ),
        migrations.AlterField(
            model_name='generator',
            name='commissioned_on',
            field=models.DateField(blank=True, null=True, verbose_name='commercial operation date'),
        ),
        migrations.AlterField(
            model_name='generator',
            name='eligibilities',
            field=django.contrib.postgres.fields.ArrayField(base_field=models.CharField(max_length=32), blank=True, default=list, verbose_name='eligibilities claimed'),
        ),
        migrations.AlterField(
            model_name='generator',
            name='state',
            field=models.CharField(choices=[('AL', 'Alabama'), ('AK', 'Alaska'), ('AZ', 'Arizona'), ('AR', 'Arkansas'), ('CA', 'California'), ('CO', 'Colorado'), ('CT', 'Connecticut'), ('DE', 'Delaware'), ('DC', 'District of Columbia'), ('FL', 'Florida'), ('GA', 'Georgia'), ('HI', 'Hawaii'), ('ID', 'Idaho'), ('IL', 'Illinois'), ('IN', 'Indiana'), ('IA', 'Iowa'), ('KS', 'Kansas'), ('KY', 'Kentucky'), ('LA', 'Louisiana'), ('ME', 'Maine'), ('MD', 'Maryland'), ('MA', 'Massachusetts'), ('MI', 'Michigan'), ('MN', 'Minnesota'), ('MS', 'Mississippi'), ('MO', 'Missouri'), ('MT', 'Montana'), ('NE', 'Nebraska'), ('NV', 'Nevada'), ('NH', 'New Hampshire'), ('NJ', 'New Jersey'), ('NM', 'New Mexico'), ('NY', 'New York'), ('NC', 'North Carolina'), ('ND', 'North Dakota'), ('OH', 'Ohio'), ('OK', 'Oklahoma'), ('OR', 'Oregon'), ('PA', 'Pennsylvania'), ('RI', 'Rhode Island'), ('SC', 'South Carolina'), ('SD', 'South Dakota'), ('TN', 'Tennessee'), ('TX', 'Texas'), ('UT', 'Utah'), ('VT', 'Vermont'), ('VA', 'Virginia'), ('WA', 'Washington'), ('WV', 'West Virginia'), ('WI', 'Wisconsin'), ('WY', 'Wyoming'), ('AB', 'Alberta'), ('BC', 'British Columbia'), ('MB', 'Manitoba'), ('NB', 'New Brunswick'), ('NL', 'Newfoundland and Labrador'), ('NS', 'Nova Scotia'), ('NT', 'Northwest Territories'), ('NU', 'Nunavut'), ('ON', 'Ontario'), ('PE', 'Prince Edward Island'), ('QC', 'Quebec'), ('SK', 'Saskatchewan'), ('YT', 'Yukon')], max_length=2, verbose_name='state or province'),
        ),
        migrations.AddIndex(
            model_name='generator',
            index=models.Index(fields=['status', 'submitted_at'], name='certificate_status_fac4f7_idx'),
        ),
        migrations.AddConstraint(
            model_name='generator',
            constraint=models.CheckConstraint(condition=models.Q(('capacity_mw__gte', 0)), name='generator_capacity_not_negative'),
        ),
        migrations.RunSQL("CREATE SEQUENCE certificates_generator_code_seq START 1",
                          "DROP SEQUENCE certificates_generator_code_seq"),
    ]
