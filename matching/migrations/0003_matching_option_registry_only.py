"""The option matches retire with is the registry's own (RetirementOption.registry_only): never offered
to users for a retirement they pick by hand. Marks it where a match (or staff) has made it already."""

from django.db import migrations

MATCHING_OPTION = "24/7 hourly matching"  # matching.models.MATCHING_OPTION, as it was when this ran


def mark(apps, schema_editor):
    apps.get_model("retirements", "RetirementOption").objects.filter(name=MATCHING_OPTION).update(registry_only=True)


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0002_statements_final"),
        ("retirements", "0004_retirementoption_registry_only"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
