"""The API's bodies for hourly matching: consumption readings sent by a meter data system, a Match
request, and the matching statement it answers. The rules are matching's (matching.consumption
validates the readings as it validates a file; matching.services decides)."""

from django.conf import settings
from rest_framework import serializers

from accounts.models import Account
from matching.selectors import site_of

from .serializers_transfers import _organization, retirement_account_named


class ConsumptionReadingSerializer(serializers.Serializer):
    site = serializers.CharField(max_length=32, help_text="The site's ID, as the Matching page lists it.")
    start = serializers.CharField(max_length=64, help_text="The interval's start, ISO 8601 with its offset from UTC.")
    end = serializers.CharField(max_length=64, help_text="The interval's end, ISO 8601 with its offset from UTC: "
                                                         "at most an hour after its start, and past.")
    wh = serializers.IntegerField(min_value=0, max_value=2**63 - 1, help_text="The consumption in whole Wh.")


class ConsumptionCreateSerializer(serializers.Serializer):
    readings = serializers.ListField(
        child=ConsumptionReadingSerializer(), min_length=1, max_length=settings.CONSUMPTION_UPLOAD_MAX_ROWS,
        help_text="Recorded all or none; an interval overlapping one of the site's recorded before is refused.",
        error_messages={"min_length": "Give at least one reading.",
                        "max_length": "Give at most {max_length} readings a request."})


class ConsumptionCreatedSerializer(serializers.Serializer):
    recorded = serializers.IntegerField(help_text="How many readings were recorded.")


class MatchCreateSerializer(serializers.Serializer):
    site = serializers.CharField(max_length=32, help_text="The site's ID.")
    account = serializers.CharField(max_length=24, help_text="The public id of one of your open retirement accounts.")
    first_day = serializers.DateField(required=False, allow_null=True, default=None,
                                      help_text="Match only from this day (in the registry's time zone).")
    last_day = serializers.DateField(required=False, allow_null=True, default=None,
                                     help_text="Match only up to this day, included.")

    def validate_site(self, code: str):
        organization = _organization(self)
        if (site := site_of(organization, code.strip())) is None:
            raise serializers.ValidationError(f"{organization.name} has no consumption site with this ID.")
        return site

    def validate_account(self, public_id: str) -> Account:
        return retirement_account_named(self, public_id)

    def validate(self, data):
        if data["first_day"] and data["last_day"] and data["first_day"] > data["last_day"]:
            raise serializers.ValidationError({"last_day": "The last day must be on or after the first."})
        return data


class MatchedCertificateSerializer(serializers.Serializer):
    serial_number = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Wh retired of it for this hour.")
    generator = serializers.CharField()


class MatchedHourSerializer(serializers.Serializer):
    start = serializers.CharField()
    end = serializers.CharField()
    consumption_wh = serializers.IntegerField()
    matched_before_wh = serializers.IntegerField(help_text="What earlier statements had matched of it.")
    matched_wh = serializers.IntegerField(help_text="What this statement matched.")
    certificates = MatchedCertificateSerializer(many=True)


class MatchingStatementSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="The statement's retirement's public reference.")
    site = serializers.CharField(source="record.site.id")
    matched_at = serializers.CharField(source="record.matched_at")
    consumption_wh = serializers.IntegerField(source="record.consumption_wh")
    matched_wh = serializers.IntegerField(source="record.matched_wh")
    hours = MatchedHourSerializer(source="record.hours", many=True)
    digest = serializers.CharField(help_text="SHA-256 of the statement's record in canonical form.")
    verification_url = serializers.CharField(help_text="Its public page.")
