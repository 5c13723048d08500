"""Each generator's eligibilities claimed become recorded eligibilities (GeneratorEligibility), which
certificates carry from now on, so that nothing a user sees changes: each holds from the generator's first
day (the earliest of its commercial operation date, the day it was registered and its first certificate's
period), with no end and no certification number, in the order claimed. A ledger event records each, by
the registry itself."""

from django.conf import settings
from django.db import migrations

NOTE = "Recorded from the eligibilities claimed, when the registry began recording eligibilities."


def claims_recorded(apps, schema_editor):
    import zoneinfo

    Generator = apps.get_model("certificates", "Generator")
    Certificate = apps.get_model("certificates", "Certificate")
    GeneratorEligibility = apps.get_model("certificates", "GeneratorEligibility")
    LedgerEvent = apps.get_model("ledger", "LedgerEvent")
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    first_periods = dict(Certificate.objects.order_by("generator_id", "period").distinct("generator_id")
                         .values_list("generator_id", "period"))
    for generator in Generator.objects.exclude(eligibilities=[]).order_by("pk").iterator():
        days = [generator.created_at.astimezone(zone).date()]
        if generator.commissioned_on:
            days.append(generator.commissioned_on)
        if first_periods.get(generator.pk) is not None:
            days.append(first_periods[generator.pk].start.astimezone(zone).date())
        start = min(days)
        for name in dict.fromkeys(generator.eligibilities):
            eligibility = GeneratorEligibility.objects.create(generator=generator, name=name, start_date=start)
            LedgerEvent.objects.create(
                kind="eligibility_recorded", organization_id=generator.organization_id, account_id=generator.account_id,
                after={"generator": generator.pk, "code": generator.code, "eligibility": eligibility.pk, "name": name,
                       "certification_number": "", "start_date": start.isoformat(), "verified_on": None,
                       "good_through": None}, note=NOTE)


def records_dropped(apps, schema_editor):
    """Back: the records go (their ledger events stay: the ledger is append-only)."""
    apps.get_model("certificates", "GeneratorEligibility").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("certificates", "0007_generator_eligibility"),
        ("ledger", "0013_eligibility_kinds"),
    ]

    operations = [
        migrations.RunPython(claims_recorded, records_dropped, elidable=False),
    ]
