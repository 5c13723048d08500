"""What the API answers, field by field (the schema is made from these)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.serials import format_serial
from registry.models import Organization


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2020-01"})
class MonthField(serializers.DateField):
    """A month, YYYY-MM (a certificate's vintage)."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "public_id", "name", "status"]


class BalancesSerializer(serializers.Serializer):
    active = serializers.IntegerField(source="active_quantity")
    pending = serializers.IntegerField(source="pending_quantity")
    retired = serializers.IntegerField(source="retired_quantity")


class AccountSerializer(serializers.ModelSerializer):
    """An account with its balances (accounts.selectors.accounts_with_balances)."""

    balances = BalancesSerializer(source="*", help_text="Certificates held: active, pending (in a transfer), retired.")

    class Meta:
        model = Account
        fields = ["id", "public_id", "name", "type", "status", "balances"]


class BatchSerializer(serializers.ModelSerializer):
    """A batch as the dashboard's row shows it (and its CSV download)."""

    serial_number = serializers.SerializerMethodField(help_text="`<serial base>-<start> to <end>`, the value a mass "
                                                                "transfer's Serial Number column takes.")
    account = serializers.CharField(source="account.public_id", help_text="The account's public id.")
    account_name = serializers.CharField(source="account.name")
    generator = serializers.CharField(source="certificate.generator.code")
    generator_name = serializers.CharField(source="certificate.generator.name")
    fuel = serializers.CharField(source="certificate.fuel_type")
    state = serializers.CharField(source="certificate.state")
    vintage = MonthField(source="certificate.vintage", help_text="The month generated, YYYY-MM.")
    eligibilities = serializers.ListField(child=serializers.CharField(), source="certificate.eligibilities")
    issued_at = serializers.DateTimeField(source="certificate.issued_at")

    class Meta:
        model = CertificateBatch
        fields = ["id", "serial_number", "serial_start", "serial_end", "quantity", "status", "account", "account_name",
                  "generator", "generator_name", "fuel", "state", "vintage", "eligibilities", "issued_at"]

    def get_serial_number(self, batch: CertificateBatch) -> str:
        return format_serial(batch.certificate.serial_base, batch.serial_start, batch.serial_end)


class VerificationDigestSerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    canonical_form = serializers.CharField()
    value = serializers.CharField()


class VerificationSerializer(serializers.Serializer):
    """A retirement's public verification record (transfers.statements.verification_record): for a
    private retirement only that the reference is valid."""

    reference = serializers.CharField()
    valid = serializers.BooleanField()
    private = serializers.BooleanField()
    record = serializers.DictField(required=False, help_text="Every fact the retirement statement prints.")
    digest = VerificationDigestSerializer(required=False, help_text="SHA-256 of the record's canonical form.")
