"""The API's interval readings (EnergyTag granular generators' metered output, issue 33): a body's shape
(what the schema shows), and how a reading reads back. Whether a reading is right is issuance.intervals'
to decide, the same rules as the interval file's (issuance.services.interval_readings_submit)."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from issuance.intervals import WH_MOST
from issuance.models import GenerationReport, IntervalReading
from utilities.display import iso_utc

from .serializers import MonthField

# ISO 8601, as the interval rules (issuance.intervals.parse_moment) and the interval filters
# (certificates.filters.MomentField) read it: the schema's patterns, so that a generated client and a validator
# know it. (Days 29 to 31 are taken too; the pattern leaves them out so that every day it allows exists.)
_DATE = "(19[0-9]{2}|20[0-9]{2})-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
_TIME = "([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?"
_OFFSET = "(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])"
MOMENT_PATTERN = f"^{_DATE}T{_TIME}{_OFFSET}$"  # with its offset from UTC
FILTER_MOMENT_PATTERN = f"^$|^{_DATE}T{_TIME}{_OFFSET}?$"  # a filter's: without an offset, UTC; empty, none


@extend_schema_field({"type": "string", "format": "date-time", "pattern": MOMENT_PATTERN,
                      "example": "2026-11-03T14:00:00-06:00"})
class MomentTextField(serializers.CharField):
    """A moment as text: read by the interval rules, which name what is wrong with it."""


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 0, "maximum": WH_MOST})
class WhField(serializers.Field):
    """Whole Wh, a JSON number without a fraction (JSON Schema's integer: 1250000, or 1250000.0), not text:
    the interval rules (issuance.intervals.parse_wh) refuse a negative one, or one over the generator's
    capacity times the interval."""

    default_error_messages = {"invalid": "Enter the generation in Wh as a whole number, e.g. 1250000."}

    def to_internal_value(self, data) -> str:
        if isinstance(data, float) and data.is_integer():
            data = int(data)
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("invalid")
        return str(data)

    def to_representation(self, value):
        return value


class IntervalReadingLineSerializer(serializers.Serializer):
    generator = serializers.CharField(max_length=64, help_text="The granular generator's ID, e.g. H100: one of your "
                                                               "organization's, or one registry staff authorised it "
                                                               "to report for.")
    interval_start = MomentTextField(max_length=64, help_text="When the interval starts: ISO 8601 with its offset "
                                                              "from UTC.")
    interval_end = MomentTextField(max_length=64, help_text="When it ends: an hour later (or, where the registry "
                                                            "takes shorter intervals, a multiple of them), within "
                                                            "the same month of the registry's time zone, and over.")
    wh = WhField(help_text="What the generator made in the interval, in Wh: at most its capacity times the interval.")


class IntervalReadingsCreateSerializer(serializers.Serializer):
    readings = serializers.ListField(
        child=IntervalReadingLineSerializer(), min_length=1, max_length=settings.GENERATION_UPLOAD_MAX_ROWS,
        help_text="The readings, recorded all or none. None may overlap another of its generator's, here or "
                  "reported before.")


class MonthReportSerializer(serializers.Serializer):
    """A month's report, as the readings made it: the month's total so far, for staff to issue."""

    generator = serializers.CharField(source="generator.code")
    month = MonthField()
    mwh = serializers.DecimalField(max_digits=15, decimal_places=3, coerce_to_string=True,
                                   help_text="The month's readings' total, in MWh to the kWh (certificates are "
                                             "issued in Wh, one per interval).")
    status = serializers.ChoiceField(choices=GenerationReport.Status.choices)


class IntervalReadingsCreatedSerializer(serializers.Serializer):
    readings = serializers.IntegerField(help_text="How many readings were recorded.")
    wh = serializers.IntegerField(help_text="Their Wh, together.")
    months = MonthReportSerializer(many=True, help_text="Each month the readings are in, with its new total.")


class IntervalReadingSerializer(serializers.Serializer):
    """A reading as recorded."""

    generator = serializers.CharField(source="generator.code")
    interval_start = serializers.SerializerMethodField()
    interval_end = serializers.SerializerMethodField()
    wh = serializers.IntegerField()
    status = serializers.ChoiceField(choices=IntervalReading.Status.choices,
                                     help_text="submitted, or issued (its certificate, if it had Wh).")
    certificate = serializers.CharField(source="certificate_serial", allow_null=True, default=None,
                                        help_text="The serial base of the certificate issued for it; null before.")
    submitted_at = serializers.DateTimeField(source="created_at")

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_interval_start(self, reading: IntervalReading) -> str:
        return iso_utc(reading.period.start)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_interval_end(self, reading: IntervalReading) -> str:
        return iso_utc(reading.period.end)
