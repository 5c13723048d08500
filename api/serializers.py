"""What the API answers, field by field (the schema is made from these)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account
from certificates.models import CertificateBatch, FuelType
from certificates.period_texts import period_texts
from certificates.serials import format_serial
from registry.models import Organization
from retirements.models import RetirementOption
from utilities.display import iso_utc

from .serializers_log import CheckpointSerializer


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "example": "2020-01"})
class MonthField(serializers.DateField):
    """A month, YYYY-MM (a certificate's vintage)."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class OrganizationSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="public_id", help_text="The organization's MM id, e.g. MM00412.")

    class Meta:
        model = Organization
        fields = ["id", "name", "status"]


class BalancesSerializer(serializers.Serializer):
    active = serializers.IntegerField(source="active_quantity")
    pending = serializers.IntegerField(source="pending_quantity")
    retired = serializers.IntegerField(source="retired_quantity")


class AccountSerializer(serializers.ModelSerializer):
    """An account with its balances (accounts.selectors.accounts_with_balances)."""

    id = serializers.CharField(source="public_id", help_text="The account's public id, e.g. ACT-00031: what the "
                                                             "batches' `account` filter, a transfer's destination "
                                                             "and `/accounts/{id}/` take.")
    balances = BalancesSerializer(source="*", help_text="Certificates held: active, pending (in a transfer), retired.")

    class Meta:
        model = Account
        fields = ["id", "name", "type", "status", "balances"]


class BatchOriginSerializer(serializers.Serializer):
    tracking_system = serializers.CharField(help_text="The code of the tracking system it was imported from.")
    tracking_system_name = serializers.CharField()
    original_serial = serializers.CharField(help_text="Its serial number in that tracking system.")


class BatchSerializer(serializers.Serializer):
    """A batch as the dashboard's row shows it (and its CSV download).

    Read from one row of `COLUMNS` (a values() query), not from model instances: a page of 1,000
    batches through model instances and DRF's fields took ~600 ms; this way ~100 ms (the listing of
    100,000 batches a page at a time, bench/api_load.py). The declared fields are the schema's;
    to_representation is the one mapping from columns to fields."""

    COLUMNS = ("pk", "serial_start", "serial_end", "quantity", "status", "account__public_id", "account__name",
               "certificate__serial_base", "certificate__generator__code", "certificate__generator__name",
               "certificate__fuel_type", "certificate__state", "certificate__period__startswith",
               "certificate__period__endswith", "certificate__eligibilities",
               "certificate__issued_at", "certificate__imported_from__code", "certificate__imported_from__name",
               "certificate__original_serial")

    id = serializers.IntegerField(help_text="The batch's id. A batch has no public id but its serial range: this id "
                                            "is what a transfer's lines and `/batches/{id}/` take.")
    serial_number = serializers.CharField(help_text="`<serial base>-<start> to <end>`, the value a mass transfer's "
                                                    "Serial Number column takes.")
    serial_start = serializers.IntegerField()
    serial_end = serializers.IntegerField()
    quantity = serializers.IntegerField()
    status = serializers.ChoiceField(choices=CertificateBatch.Status.choices)
    account = serializers.CharField(help_text="The account's public id.")
    account_name = serializers.CharField()
    generator = serializers.CharField(help_text="The generator's id.")
    generator_name = serializers.CharField()
    fuel = serializers.ChoiceField(choices=FuelType.choices)
    state = serializers.CharField(help_text="State or province.")
    vintage = MonthField(help_text="The month generated, YYYY-MM.")
    eligibilities = serializers.ListField(child=serializers.CharField())
    issued_at = serializers.DateTimeField()
    origin = BatchOriginSerializer(allow_null=True, help_text="Where an imported certificate came from: the tracking "
                                                               "system and its serial number there; null for one "
                                                               "issued here.")

    def to_representation(self, row: dict) -> dict:
        return {
            "id": row["pk"],
            "serial_number": format_serial(row["certificate__serial_base"], row["serial_start"], row["serial_end"]),
            "serial_start": row["serial_start"], "serial_end": row["serial_end"], "quantity": row["quantity"],
            "status": row["status"], "account": row["account__public_id"], "account_name": row["account__name"],
            "generator": row["certificate__generator__code"], "generator_name": row["certificate__generator__name"],
            "fuel": row["certificate__fuel_type"], "state": row["certificate__state"],
            "vintage": period_texts(row["certificate__period__startswith"], row["certificate__period__endswith"]).api,
            "eligibilities": row["certificate__eligibilities"],
            "issued_at": iso_utc(row["certificate__issued_at"]),
            "origin": {"tracking_system": row["certificate__imported_from__code"],
                       "tracking_system_name": row["certificate__imported_from__name"],
                       "original_serial": row["certificate__original_serial"]}
            if row["certificate__imported_from__code"] else None,
        }


class BatchDetailSerializer(BatchSerializer):
    """One batch, and what replaced it if a partial move superseded it."""

    replaced_by = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="A superseded batch's replacements, lowest serials first: the part that moved and the part that "
                  "stayed (`/batches/{id}/` shows each while it is in your accounts). Empty for any other batch.")

    def to_representation(self, row: dict) -> dict:
        return super().to_representation(row) | {"replaced_by": row["replaced_by"]}


class VerificationDigestSerializer(serializers.Serializer):
    algorithm = serializers.CharField()
    canonical_form = serializers.CharField()
    value = serializers.CharField()


class VerificationLogSerializer(serializers.Serializer):
    """A retirement's place in the public log (publiclog.selectors.retirement_log_proof)."""

    leaf_index = serializers.IntegerField(min_value=0)
    entry = serializers.CharField(help_text="The leaf: the record's SHA-256 digest as the log took it, base64.")
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || entry), base64.")
    origin = serializers.CharField()
    verifier_key = serializers.CharField(help_text="The C2SP verifier key of the checkpoints' signatures.")
    auditors_page = serializers.CharField(help_text="How to check the proof by hand.")
    checkpoint = CheckpointSerializer(allow_null=True, help_text="The latest signed checkpoint; null until one "
                                                                 "includes the leaf.")
    proof = serializers.ListField(child=serializers.CharField(), allow_null=True,
                                  help_text="The inclusion proof against the checkpoint, base64, from the leaf up.")
    verified = serializers.BooleanField(allow_null=True, help_text="Whether the registry's own check of the proof "
                                                                   "against the checkpoint's root passed.")


class VerificationSerializer(serializers.Serializer):
    """A retirement's public verification record (retirements.statements.verification_record): for a
    private retirement only that the reference is valid."""

    reference = serializers.CharField()
    valid = serializers.BooleanField()
    private = serializers.BooleanField()
    record = serializers.DictField(required=False, help_text="Every fact the retirement statement prints.")
    digest = VerificationDigestSerializer(required=False, help_text="SHA-256 of the record's canonical form.")
    log = VerificationLogSerializer(allow_null=True, help_text="Its place in the public log of retirements; null "
                                                               "until the log has taken it (seconds after it is made).")


# --- lookups: the values a request may name ---------------------------------------------------


class RetirementOptionSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="What a retirement's `option` and the retirements' `option` filter take.")
    type = serializers.ChoiceField(choices=RetirementOption.Type.choices)
    reason = serializers.ChoiceField(choices=RetirementOption.Reason.choices)
    state = serializers.CharField(help_text="The state or province it counts toward; empty if none.")
    required_details = serializers.ListField(
        child=serializers.ChoiceField(choices=["compliance_period", "beneficiary"]),
        help_text="The fields a retirement toward this option must give (a missing one is a 400 naming it).")


class TrackingSystemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="What an export's `tracking_system` takes.")
    name = serializers.CharField()


class RecipientSearchSerializer(serializers.Serializer):
    """The organizations list's query: its text read as every text the API reads (no null character)."""

    search = serializers.CharField(allow_blank=True, trim_whitespace=False, error_messages={
        "required": "Give a part of the organization's name or MM id."})


class RecipientSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="The organization's MM id: what a transfer's "
                                                             "`organization` destination takes.")
    name = serializers.CharField()
    can_receive = serializers.BooleanField(help_text="Whether a transfer to it can be made now: false while it has "
                                                     "no open active account to accept certificates into (a "
                                                     "transfer to it is then refused, saying so).")
