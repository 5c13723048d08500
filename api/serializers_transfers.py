"""The API's bodies for transfers, retirements and mass uploads: what a request must look like (its
shape, for the schema), the objects it names looked up as the pages offer them (a batch, an account,
an organization, a tracking system, a retirement option: one that is none of those is a 400 naming
the field), and how a transfer, retirement or upload reads back. What the request may do is the
transfer services' to decide (api/views_transfers.py calls them; api.problems words their refusals)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from accounts.models import Account
from certificates.models import CertificateBatch
from certificates.selectors import selection_batches
from mass_uploads.models import MassTransferUpload
from registry.models import Organization
from retirements.selectors import retirement_option_not_offered, retirement_options_offered
from retirements.services import FIRST_COMPLIANCE_PERIOD, LAST_COMPLIANCE_PERIOD, RetirementDetails
from transfers.forms import RECIPIENT_NAME_REQUIRED, cannot_accept_reason, recipient_from_text
from transfers.models import NOTES_MAX_LENGTH, Transfer
from transfers.selectors import tracking_systems_to_export_to
from transfers.serializers import RetirementDetailsSerializer, TransferItemSerializer, TransferSerializer
from transfers.services import Destination, TransferLine
from transfers.values import not_one_of_accounts
from utilities.parsing import BIGINT_MAX

from .problems import invalid

# --- requests ---------------------------------------------------------------------------------


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": BIGINT_MAX})
class LineQuantityField(serializers.IntegerField):
    """A line's quantity, refused as the wizard's first step and the mass files refuse it
    (TransferLine.quantity_problem); how it compares with the batch is checked with the lines."""

    def to_internal_value(self, data) -> int:
        quantity = super().to_internal_value(data)
        if problem := TransferLine(0, quantity).quantity_problem():
            raise serializers.ValidationError(problem)
        return quantity


class TransferLineSerializer(serializers.Serializer):
    batch = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX,
                                     help_text="The id of an active batch of your organization (`id` in the batches "
                                               "list).")
    quantity = LineQuantityField(max_value=BIGINT_MAX,
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


def _organization(serializer: serializers.Serializer) -> Organization:
    """The organization whose request it is (the API key's): the one every id is looked up in."""
    return serializer.context["organization"]


def _account_found(organization: Organization, public_id: str) -> Account | None:
    """The organization's account named `public_id`, in any case (whatever its type and status:
    Destination.problems says why one cannot be used)."""
    return Account.objects.of(organization).filter(public_id=public_id.strip().upper()).first()


def retirement_account_named(serializer: serializers.Serializer, public_id: str) -> Account:
    """The account a retirement's body names (`account`), of the request's organization; refused in
    the words every retirement path uses when it is not one of them (its type and status are the
    service's to check: Destination.problems)."""
    organization = _organization(serializer)
    if (account := _account_found(organization, public_id)) is None:
        raise serializers.ValidationError(not_one_of_accounts(public_id.strip(), organization,
                                                              Account.Type.RETIREMENT))
    return account


# How a retirement's body names the fields a refusal names (api.problems.request_field): its account
# (the retirement's destination) and its details at its top level.
RETIREMENT_FIELDS = {"destination.account": "account", "retirement": ""}


class LinesMixin(serializers.Serializer):
    # `lines` as the services take them (TransferLine), once each names one of the organization's
    # active batches (as the dashboard selects them) and at most what it holds; `batches`, those
    # batches (the batches a destination is looked up for). (No docstring: the schema would show it.)

    lines = serializers.ListField(
        child=TransferLineSerializer(), min_length=1, max_length=10_000,
        help_text="One line per batch: its id and how many of it.",
        error_messages={"min_length": "Give at least one line: a batch and a quantity.",
                        "max_length": "Give at most {max_length} lines; for more, upload a mass-transfer file."})
    notes = serializers.CharField(max_length=NOTES_MAX_LENGTH, required=False, allow_blank=True, default="")

    def validate_lines(self, lines: list[dict]) -> list[TransferLine]:
        organization = _organization(self)
        found = {batch.pk: batch for batch in selection_batches(organization, [line["batch"] for line in lines])}
        errors = {}
        for index, line in enumerate(lines):
            batch = found.get(line["batch"])
            if batch is None:
                errors[index] = {"batch": [f"Batch {line['batch']} is not an active batch of {organization.name} "
                                           f"(/api/v1/batches/{line['batch']}/ shows what became of it)."]}
            elif problem := TransferLine(batch.pk, line["quantity"]).quantity_problem(batch):  # as the wizard's
                errors[index] = {"quantity": [problem]}
        if errors:
            raise serializers.ValidationError(errors)
        self.batches: list[CertificateBatch] = list(found.values())
        return [TransferLine(line["batch"], line["quantity"]) for line in lines]


class TransferCreateSerializer(LinesMixin):
    # `destination` as the transfer service takes it (Destination), its account, organization or
    # tracking system looked up as the wizard's destination step offers them.

    destination = DestinationField()

    def validate(self, attrs: dict) -> dict:
        looked_up = {"internal": self._internal, "organization": self._to_organization, "export": self._export}
        attrs["destination"] = looked_up[attrs["destination"]["type"]](attrs["destination"])
        return attrs

    def _internal(self, destination: dict) -> Destination:
        organization, public_id = _organization(self), destination["account"]
        if (account := _account_found(organization, public_id)) is None:
            raise serializers.ValidationError({"destination": {"account": [
                not_one_of_accounts(public_id.strip(), organization, Account.Type.ACTIVE)]}})
        return self._checked(Destination.internal(account))

    def _to_organization(self, destination: dict) -> Destination:
        """The organization the text names (its MM id or registered name), as the destination step finds it."""
        try:
            recipient = recipient_from_text(_organization(self), destination["organization"])
        except DjangoValidationError as error:
            raise serializers.ValidationError({"destination": {"organization": error.messages}}) from None
        return self._checked(Destination.to_organization(recipient))

    def _export(self, destination: dict) -> Destination:
        """A tracking system certificates may be exported to, by its code."""
        code = destination["tracking_system"].strip()
        system = next((system for system in tracking_systems_to_export_to() if system.code.lower() == code.lower()),
                      None)
        if system is None:
            raise serializers.ValidationError({"destination": {"tracking_system": [
                f"Select a valid choice: {code} is not a tracking system certificates can be exported to "
                "(/api/v1/tracking-systems/ lists them)."]}})
        return self._checked(Destination.export(system, destination["recipient_name"],
                                                destination["recipient_account_ref"]))

    def _checked(self, destination: Destination) -> Destination:
        """The destination, if the one rule of where certificates may go (Destination.problems, which
        the wizard's destination step asks too) finds nothing wrong with it for these batches; each
        problem is a 400 naming its field. The service asks again under its locks (then a 422)."""
        if problems := destination.problems(_organization(self), batches=self.batches):
            raise invalid(problems)
        return destination


class TransferAcceptSerializer(serializers.Serializer):
    account = serializers.CharField(max_length=24, help_text="The public id of one of your open active accounts "
                                                             "to accept the certificates into.")

    def validate_account(self, public_id: str) -> Account:
        """One of the organization's open active accounts, as the accept page offers them."""
        organization = _organization(self)
        account = Account.objects.of(organization).open_active().filter(public_id=public_id.strip().upper()).first()
        if account is None:
            raise serializers.ValidationError(cannot_accept_reason(organization)
                                              or not_one_of_accounts(public_id.strip(), organization,
                                                                     Account.Type.ACTIVE))
        return account


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

    def validate_account(self, public_id: str) -> Account:
        return retirement_account_named(self, public_id)

    def validate_option(self, name: str):
        """One of the retirement options offered (`/retirement-options/`), by its name in any case."""
        option = retirement_options_offered().filter(name__iexact=name.strip()).first()
        if option is None:
            raise serializers.ValidationError(retirement_option_not_offered(
                name=name, otherwise="Choose one of the options offered (/api/v1/retirement-options/ lists them)."))
        return option

    def validate(self, attrs: dict) -> dict:
        """`details` as retirement_create takes them. What the rules find wrong with the account
        (Destination.problems) or the details (RetirementDetails.problems), as the wizard's
        retirement step asks them, is a 400 naming each field; the service asks again as it writes."""
        attrs["details"] = RetirementDetails(option=attrs["option"], compliance_period=attrs["compliance_period"],
                                             period_start=attrs["period_start"], period_end=attrs["period_end"],
                                             beneficiary=attrs["beneficiary"])
        problems = Destination.retirement(attrs["account"]).problems(_organization(self)) | {
            f"retirement.{field}": message for field, message in attrs["details"].problems().items()}
        if problems:
            raise invalid(problems, RETIREMENT_FIELDS)
        return attrs


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
    organization = serializers.CharField(source="transfer.organization.public_id",
                                         help_text="The Organization ID of who retired (a regulator reads other "
                                                   "organizations' retirements toward its programs).")


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
