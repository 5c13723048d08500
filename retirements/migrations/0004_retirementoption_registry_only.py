"""An option the registry keeps for its own retirements (hourly matching's): never offered to users."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("retirements", "0003_retirement_record_frozen"),
    ]

    operations = [
        migrations.AddField(
            model_name="retirementoption",
            name="registry_only",
            field=models.BooleanField(
                default=False, verbose_name="registry's own",
                help_text="Made by the registry for its own retirements (hourly matching's Match retires with it): "
                          "never offered to users, and refused if one chooses it."),
        ),
    ]
