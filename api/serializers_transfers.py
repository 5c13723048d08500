"""The API's bodies for transfers, retirements and mass uploads: what a request must look like (its
shape, for the schema) and how a transfer, retirement or upload reads back. What a request means
(which batches, which destination, what a retirement option needs) is decided by the wizard's own
forms and the transfer services, in api/views_transfers.py, not here."""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from mass_uploads.models import MassTransferUpload
from retirements.services import FIRST_COMPLIANCE_PERIOD, LAST_COMPLIANCE_PERIOD
from transfers.forms import RECIPIENT_NAME_REQUIRED
from transfers.models import NOTES_MAX_LENGTH, Transfer
from utilities.parsing import BIGINT_MAX

# --- requests ---------------------------------------------------------------------------------


class TransferLineSerializer(serializers.Serializer):
    batch = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX,
                                     help_text="The id of an active batch of your organization (`id` in the batches "
                                               "list).")
    quantity = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX,
                                        help_text="How many certificates: the lowest serials of the batch move, the "
                                                  "rest stays.")


class InternalDestinationSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[Transfer.Kind.INTERNAL.value])
    account = serializers.CharField(max_length=24, help_text="The public id of one of your open active accounts, "
                                                             "e.g. ACT-00031 (one that holds none of the batches).")


class OrganizationDestinationSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[Transfer.Kind.ORGANIZATION.value])
    organization = serializers.CharField(max_length=200, help_text="The recipient's MM id, e.g. MM00412 (or its "
                                                                   "registered name; `/organizations/?search=` finds "
                                                                   "it). It accepts or rejects.")


class ExportDestinationSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[Transfer.Kind.EXPORT.value])
    tracking_system = serializers.CharField(max_length=32, help_text="The code of the tracking system to export "
                                                                     "to, e.g. WREGIS (`/tracking-systems/` lists "
                                                                     "them).")
    recipient_name = serializers.CharField(max_length=200, error_messages={"blank": RECIPIENT_NAME_REQUIRED},
                                           help_text="The recipient's name at that tracking system.")
    recipient_account_ref = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                                  help_text="The recipient's account id at that system (optional).")


DESTINATIONS = {Transfer.Kind.INTERNAL.value: InternalDestinationSerializer,
                Transfer.Kind.ORGANIZATION.value: OrganizationDestinationSerializer,
                Transfer.Kind.EXPORT.value: ExportDestinationSerializer}


@extend_schema_field(PolymorphicProxySerializer(
    component_name="Destination", resource_type_field_name="type",
    serializers={kind: serializer for kind, serializer in DESTINATIONS.items()}))
class DestinationField(serializers.Field):
    """Where the certificates go, by `type`: internal (one of your accounts), organization (another
    organization, pending until it decides) or export (another tracking system, pending until
    registry staff confirm)."""

    default_error_messages = {"invalid": "Give the destination as an object with a type."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        kind = data.get("type")
        serializer_class = DESTINATIONS.get(kind) if isinstance(kind, str) else None
        if serializer_class is None:
            choices = ", ".join(DESTINATIONS)
            raise serializers.ValidationError({"type": [f"Choose the type of transfer: one of {choices}."]})
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def to_representation(self, value):
        return value


class LinesMixin(serializers.Serializer):
    lines = serializers.ListField(
        child=TransferLineSerializer(), min_length=1, max_length=10_000,
        help_text="One line per batch: its id and how many of it.",
        error_messages={"min_length": "Give at least one line: a batch and a quantity.",
                        "max_length": "Give at most {max_length} lines; for more, upload a mass-transfer file."})
    notes = serializers.CharField(max_length=NOTES_MAX_LENGTH, required=False, allow_blank=True, default="")


class TransferCreateSerializer(LinesMixin):
    destination = DestinationField()


class TransferAcceptSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=24, help_text="The public id of one of your open active accounts "
                                                             "to accept the certificates into.")


class TransferRejectSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                 help_text="Why, for the sender (optional).")


class TransferWithdrawSerializer(serializers.Serializer):
    """Nothing to send: the sender takes back a transfer still pending."""


@extend_schema_field({"type": "integer", "minimum": FIRST_COMPLIANCE_PERIOD,
                      "maximum": LAST_COMPLIANCE_PERIOD})
class CompliancePeriodField(serializers.IntegerField):
    """A year: the years an option takes are RetirementDetails.problems()'s, which words the refusal."""


class RetirementCreateSerializer(LinesMixin):
    account = serializers.CharField(max_length=24, help_text="The public id of one of your open retirement accounts.")
    option = serializers.CharField(max_length=120, help_text="What the retirement counts toward: the name of a "
                                                             "retirement option, e.g. Minnesota RES "
                                                             "(`/retirement-options/` lists them, with the details "
                                                             "each needs).")
    compliance_period = CompliancePeriodField(required=False, allow_null=True, default=None,
                                              min_value=-2**31, max_value=2**31 - 1,
                                              help_text="The year it counts for (some options need it).")
    beneficiary = serializers.CharField(max_length=200, required=False, allow_blank=True, default="",
                                        help_text="For whom (some options need it).")
    period_start = serializers.DateField(required=False, allow_null=True, default=None)
    period_end = serializers.DateField(required=False, allow_null=True, default=None)


@extend_schema_field({"type": "string", "format": "binary", "contentMediaType": "text/csv", "minLength": 1})
class CsvFileField(serializers.FileField):
    """A CSV file, not empty (its text: the form reads and checks it)."""


class MassUploadCreateSerializer(serializers.Serializer):
    """For the schema: the view reads the upload with the page's own form (MassUploadForm)."""

    kind = serializers.ChoiceField(choices=MassTransferUpload.Kind.choices, required=False,
                                   default=MassTransferUpload.Kind.TRANSFER,
                                   help_text="What the file lists: transfers (scope trade) or retirements "
                                             "(scope retire).")
    file = CsvFileField(help_text="The CSV file, as the mass-transfer or mass-retirement template.")


class MassUploadReleaseSerializer(serializers.Serializer):
    process = serializers.BooleanField(help_text="true: process the held file after all; false: discard it.")


# --- responses --------------------------------------------------------------------------------


class PartySerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="MM id")
    name = serializers.CharField()


class AccountRefSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id", help_text="ACT id")
    name = serializers.CharField()


class TransferDestinationSerializer(serializers.Serializer):
    type = serializers.CharField(source="kind")
    label = serializers.CharField(source="destination_label", help_text="Where the certificates go, as the pages "
                                                                        "word it.")
    account = AccountRefSerializer(source="destination_account", allow_null=True)
    organization = PartySerializer(source="recipient_organization", allow_null=True)
    tracking_system = serializers.SerializerMethodField()
    recipient_name = serializers.CharField()
    recipient_account_ref = serializers.CharField()

    def get_tracking_system(self, transfer: Transfer) -> str | None:
        return transfer.tracking_system.code if transfer.tracking_system_id else None


class TransferSerializer(serializers.Serializer):
    """A transfer as the Transactions tab lists it."""

    id = serializers.IntegerField()
    type = serializers.ChoiceField(source="kind", choices=Transfer.Kind.choices)
    status = serializers.ChoiceField(choices=Transfer.Status.choices)
    sender = PartySerializer(source="organization")
    destination = TransferDestinationSerializer(source="*")
    quantity = serializers.IntegerField(source="total_quantity")
    notes = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="When a pending transfer to another "
                                                                      "organization goes back if undecided.")
    decision_note = serializers.CharField()
    mass_upload = serializers.IntegerField(source="mass_upload_id", allow_null=True)


class CreatedLineSerializer(serializers.Serializer):
    """What one line of the request left behind."""

    batch = serializers.IntegerField(help_text="The batch the line named. After a partial move it is superseded: "
                                               "`/batches/{id}/` shows it with the batches that replaced it.")
    quantity = serializers.IntegerField()
    moved = serializers.IntegerField(help_text="The batch that moved (the lowest serials): the line's batch itself "
                                               "when all of it moved.")
    remaining = serializers.IntegerField(allow_null=True, help_text="The batch of the serials that stayed, active "
                                                                    "where they were; null when all of it moved.")


def created_lines(transfer: Transfer, lines) -> list[dict]:
    """Each of the request's lines (TransferLine) with the batches the transfer service made of it."""
    return [{"batch": line.batch_id, "quantity": line.quantity, "moved": transfer.moved[line.batch_id],
             "remaining": transfer.remainders[line.batch_id]} for line in lines]


class TransferCreatedSerializer(TransferSerializer):
    """A transfer just made, and for each line of the request the batches it left behind."""

    lines = CreatedLineSerializer(source="created_lines", many=True,
                                  help_text="The request's lines, in its order, each with the batch that moved "
                                            "and the one that stayed.")


class TransferItemSerializer(serializers.Serializer):
    batch = serializers.IntegerField(source="batch_id", help_text="The batch that moved (its own id).")
    serial_number = serializers.CharField(source="batch.serial_number",
                                          help_text="The exact serial range that moved.")
    quantity = serializers.IntegerField(source="batch.quantity")
    status = serializers.CharField(source="batch.status", help_text="The moved batch's status now.")
    source_batch = serializers.IntegerField(source="source_batch_id", help_text="The batch it was taken from.")
    source_serial_number = serializers.CharField(source="source_batch.serial_number")
    source_account = serializers.CharField(source="source_account.public_id")


class TransferEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField(source="get_kind_display")
    occurred_at = serializers.DateTimeField()
    actor = serializers.SerializerMethodField()
    organization = serializers.CharField(source="organization.public_id", allow_null=True, default=None)
    note = serializers.CharField()

    def get_actor(self, event) -> str | None:
        return event.actor.email if event.actor_id else None


class RetirementDetailsSerializer(serializers.Serializer):
    reference = serializers.CharField(help_text="The retirement's public reference, its id: "
                                                "`/retirements/{reference}/statement.pdf` and `/verify/{reference}/` "
                                                "take it.")
    option = serializers.CharField(source="option.name")
    compliance_period = serializers.IntegerField(allow_null=True)
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    beneficiary = serializers.CharField()
    private = serializers.BooleanField(source="is_private")


class TransferDetailSerializer(TransferSerializer):
    """One transfer: its items (the exact serial ranges), parties, status and history."""

    item_count = serializers.IntegerField(help_text="How many batches moved (items lists at most the first "
                                                    "1,000; the summary CSV lists them all).")
    items = TransferItemSerializer(source="items_shown", many=True)
    history = TransferEventSerializer(source="history_shown", many=True)
    retirement = RetirementDetailsSerializer(allow_null=True)


class RetirementSerializer(RetirementDetailsSerializer):
    """A retirement as the Retired tab lists it."""

    transfer = serializers.IntegerField(source="transfer_id", help_text="The retirement's transaction: its number, "
                                                                        "as `/transfers/{id}/` takes it.")
    retired_at = serializers.DateTimeField(source="transfer.submitted_at")
    account = serializers.CharField(source="transfer.destination_account.public_id")
    quantity = serializers.IntegerField(source="total_quantity")
    notes = serializers.CharField(source="transfer.notes")


class RetirementCreatedSerializer(RetirementSerializer):
    """A retirement just made, and for each line of the request the batches it left behind."""

    lines = CreatedLineSerializer(source="created_lines", many=True,
                                  help_text="The request's lines, in its order, each with the batch retired and "
                                            "the one that stayed active.")


class UploadErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The file's row number (0: the file as a whole).")
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class MassUploadSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=MassTransferUpload.Kind.choices)
    status = serializers.ChoiceField(choices=MassTransferUpload.Status.choices,
                                     help_text="held: the same file was uploaded within a day; process or discard it "
                                               "(`release`).")
    filename = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    row_count = serializers.IntegerField(allow_null=True)
    error_count = serializers.SerializerMethodField()
    transfers = serializers.SerializerMethodField(help_text="The ids of the transfers (or retirements) it made.")
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_error_count(self, upload: MassTransferUpload) -> int:
        return len(upload.errors)

    def get_transfers(self, upload: MassTransferUpload) -> list[int]:
        return [transfer.pk for transfer in upload.transfers.order_by("pk").only("pk")]


class MassUploadErrorsSerializer(serializers.Serializer):
    upload = serializers.IntegerField(source="pk")
    status = serializers.ChoiceField(choices=MassTransferUpload.Status.choices)
    errors = UploadErrorSerializer(many=True)
