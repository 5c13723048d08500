"""The EnergyTag face of the API (issue 33, item 5): the GC Registry API's core operations, with its names
(the EnergyTag API Specification accompanying version 2 of the Standard, as the FEA GC Registry implements it:
GC Bundles, `source_id`, `target_id`, `granular_certificate_bundle_ids`, `certificate_quantity`, `beneficiary`).

A GC Bundle is a batch of a granular (hourly or finer) certificate; its ids are the batches' (`id` in
/api/v1/batches/), its `issuance_id` the certificate's serial base, its range its serials (one a Wh). An account
is named by its public id (ACT-00031), a device by its generator ID. What a request may do is decided by the
same bodies and services as /api/v1/ (api/views_energytag.py translates)."""

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from certificates.models import CertificateBatch, FuelType
from transfers.models import NOTES_MAX_LENGTH
from utilities.display import iso_utc
from utilities.parsing import BIGINT_MAX

from .serializers_transfers import CompliancePeriodField, LineQuantityField

# The bundle statuses this face speaks of (the Standard's words), and the batch statuses they are.
BUNDLE_STATUSES = {"Active": CertificateBatch.Status.ACTIVE, "Cancelled": CertificateBatch.Status.RETIRED,
                   "Expired": CertificateBatch.Status.EXPIRED}
STATUS_WORDS = {status.value: word for word, status in BUNDLE_STATUSES.items()} | {
    CertificateBatch.Status.PENDING.value: "Reserved", CertificateBatch.Status.EXPORTED.value: "Withdrawn"}
ENERGY_SOURCES = {label: value for value, label in FuelType.choices}
FACE_VALUE_WH = 1  # a granular certificate is one Wh


class BundleIdsField(serializers.ListField):
    child = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)

    def __init__(self, **kwargs):
        super().__init__(min_length=1, max_length=10_000, help_text="The GC Bundles to act on (their `id`s, as the "
                                                                    "query answers them).", **kwargs)


class ActionSerializer(serializers.Serializer):
    source_id = serializers.CharField(max_length=24, help_text="The account holding the GC Bundles: its public id, "
                                                               "e.g. ACT-00031.")
    granular_certificate_bundle_ids = BundleIdsField()
    certificate_quantity = LineQuantityField(
        required=False, allow_null=True, default=None, max_value=BIGINT_MAX,
        help_text="How many certificates (Wh) of each bundle, its lowest serials first; the whole bundle if left out.")


class TransferActionSerializer(ActionSerializer):
    target_id = serializers.CharField(max_length=200, help_text="Where to: one of your open active accounts "
                                                                "(ACT-00032: at once), or another organization by its "
                                                                "MM id (MM00002: pending until it accepts).")
    notes = serializers.CharField(max_length=NOTES_MAX_LENGTH, required=False, allow_blank=True, default="")


class CancelActionSerializer(ActionSerializer):
    target_id = serializers.CharField(max_length=24, help_text="One of your open retirement accounts (ACT-00004).")
    retirement_option = serializers.CharField(max_length=120, help_text="What the cancellation counts toward: a "
                                                                        "retirement option's name "
                                                                        "(/api/v1/retirement-options/).")
    beneficiary = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                        help_text="Who may claim the cancelled certificates' attributes; some options "
                                                  "need one.")
    compliance_period = CompliancePeriodField(required=False, allow_null=True, default=None, min_value=-2**31,
                                              max_value=2**31 - 1, help_text="The year it counts for (some options "
                                                                             "need it).")
    notes = serializers.CharField(max_length=NOTES_MAX_LENGTH, required=False, allow_blank=True, default="")


class ClaimActionSerializer(serializers.Serializer):
    source_id = serializers.CharField(max_length=24, help_text="The retirement account holding the cancelled "
                                                               "GC Bundles.")
    granular_certificate_bundle_ids = BundleIdsField()
    beneficiary = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                        help_text="The beneficiary claiming them: the one their cancellation named "
                                                  "(none: whoever it named).")


class BundleSerializer(serializers.Serializer):
    """A GC Bundle: a batch of a granular certificate."""

    id = serializers.IntegerField(source="pk", help_text="The bundle's id: the batch's (/api/v1/batches/{id}/).")
    issuance_id = serializers.CharField(source="certificate.serial_base",
                                        help_text="The certificate's serial base, the same for every bundle split "
                                                  "from it.")
    certificate_bundle_status = serializers.SerializerMethodField()
    account_id = serializers.CharField(source="account.public_id")
    certificate_bundle_id_range_start = serializers.IntegerField(source="serial_start")
    certificate_bundle_id_range_end = serializers.IntegerField(source="serial_end")
    bundle_quantity = serializers.IntegerField(source="quantity", help_text="Certificates, one a Wh.")
    energy_carrier = serializers.SerializerMethodField()
    energy_source = serializers.CharField(source="certificate.get_fuel_type_display")
    face_value = serializers.SerializerMethodField()
    device_id = serializers.CharField(source="certificate.generator.code")
    device_name = serializers.CharField(source="certificate.generator.name")
    device_capacity = serializers.SerializerMethodField()
    device_location = serializers.CharField(source="certificate.state", help_text="Its state or province.")
    production_starting_interval = serializers.SerializerMethodField()
    production_ending_interval = serializers.SerializerMethodField()
    expiry_datestamp = serializers.SerializerMethodField()
    issuing_body = serializers.SerializerMethodField()
    emissions_factor_production_device = serializers.DecimalField(
        source="certificate.emissions_factor", max_digits=8, decimal_places=3, coerce_to_string=False, allow_null=True,
        help_text="kgCO2e/MWh (the same number as the generator's gCO2e/kWh).")
    emissions_factor_source = serializers.CharField(source="certificate.emissions_factor_source")

    def get_certificate_bundle_status(self, batch) -> str:
        return STATUS_WORDS.get(batch.status, batch.status)

    def get_energy_carrier(self, batch) -> str:
        return "Electricity"

    def get_face_value(self, batch) -> int:
        return FACE_VALUE_WH

    def get_device_capacity(self, batch) -> int:
        return int(batch.certificate.generator.capacity_mw * 1_000_000)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_production_starting_interval(self, batch) -> str:
        return iso_utc(batch.certificate.period.start)

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_production_ending_interval(self, batch) -> str:
        return iso_utc(batch.certificate.period.end)

    @extend_schema_field({"type": ["string", "null"], "format": "date-time"})
    def get_expiry_datestamp(self, batch) -> str | None:
        return iso_utc(batch.certificate.expires_at)

    def get_issuing_body(self, batch) -> str:
        return settings.REGISTRY_NAME


class QueryResultSerializer(serializers.Serializer):
    granular_certificate_bundles = BundleSerializer(many=True)
    total_certificate_volume = serializers.IntegerField(help_text="The certificates (Wh) of every bundle matching, "
                                                                  "listed or not.")
    truncated = serializers.BooleanField(help_text="Whether more bundles match than `limit` listed.")


class ActionResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The transfer's number (/api/v1/transfers/{id}/).")
    action_type = serializers.ChoiceField(choices=["transfer", "cancel"])
    status = serializers.CharField(help_text="complete, or pending (to another organization, until it decides).")
    source_id = serializers.CharField()
    target_id = serializers.CharField()
    granular_certificate_bundle_ids = serializers.ListField(child=serializers.IntegerField(),
                                                            help_text="The bundles that moved (a part of a bundle is a "
                                                                      "new bundle; the rest stays in another).")
    certificate_quantity = serializers.IntegerField(help_text="Certificates (Wh) moved, together.")
    action_request_datetime = serializers.DateTimeField()
    beneficiary = serializers.CharField(allow_null=True, help_text="A cancellation's.")
    retirement_reference = serializers.CharField(allow_null=True, help_text="A cancellation's public reference: its "
                                                                            "verification page and statement.")


class ClaimSerializer(serializers.Serializer):
    granular_certificate_bundle_id = serializers.IntegerField()
    retirement_reference = serializers.CharField()
    beneficiary = serializers.CharField()
    cancelled_at = serializers.DateTimeField()
    verification_url = serializers.CharField(help_text="The public page anyone can check the claim on.")


class ClaimResultSerializer(serializers.Serializer):
    claims = ClaimSerializer(many=True)
