"""The public statistics' answers (no key): what public_stats.selectors read, as the API writes it."""

from rest_framework import serializers

from certificates.models import FuelType, StateOrProvince, Technology
from certificates.units import MWH_DIGITS, MWH_PLACES
from public_stats.selectors import GROUPINGS
from public_stats.values import Activity


class StatisticsRowSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="What the row counts, as a filter names it: a month (YYYY-MM), a fuel, a "
                                          "technology, a state or province, an eligibility or a program's code "
                                          "(empty: none, or not given).", allow_blank=True)
    label = serializers.CharField(help_text="The same, as the statistics page writes it.")
    quantity = serializers.DecimalField(
        max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, min_value=0, normalize_output=True,
        help_text="MWh, exact, as a decimal string (\"1000\", \"1.000001\"): a monthly REC is one MWh, an hourly "
                  "certificate one Wh (certificates.units).")


class StatisticsSerializer(serializers.Serializer):
    activity = serializers.ChoiceField(choices=Activity.choices)
    by = serializers.ChoiceField(choices=list(GROUPINGS.items()), help_text="What each row counts by.")
    total = serializers.DecimalField(
        max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, min_value=0, normalize_output=True,
        help_text="The MWh of every certificate the filters pick, each once (a row by eligibility counts a "
                  "certificate under each of its), as a decimal string.")
    rows = StatisticsRowSerializer(many=True)


class PublicGeneratorSerializer(serializers.Serializer):
    """An approved generator as the public list shows it: nothing of its owner."""

    id = serializers.CharField(source="code", help_text="The generator's ID, as its serial numbers start.")
    name = serializers.CharField()
    fuel = serializers.ChoiceField(source="fuel_type", choices=FuelType.choices)
    technology = serializers.ChoiceField(choices=[("", "Not given"), *Technology.choices], allow_blank=True)
    state = serializers.ChoiceField(choices=StateOrProvince.choices, help_text="State or province.")
    capacity_mw = serializers.DecimalField(max_digits=8, decimal_places=2, help_text="Capacity in MW.")
    commissioned_on = serializers.DateField(allow_null=True, help_text="Commercial operation date.")
