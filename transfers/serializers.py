"""A transfer as the registry shows it to other systems: one representation, answered by the API
(api.serializers_transfers builds its answers on these) and sent in the webhooks' bodies
(webhooks.payloads). The API's schema documents it (its components Transfer, TransferItem and
RetirementDetails), and the webhooks' schemas refer to those components, so an integrator reads
one shape wherever a transfer comes from. Read-only: what a request sends is the API's own."""

from rest_framework import serializers

from .models import Transfer


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
    tracking_system = serializers.CharField(source="tracking_system.code", allow_null=True,
                                            help_text="An export's tracking system, by its code.")
    recipient_name = serializers.CharField()
    recipient_account_ref = serializers.CharField()


class TransferSerializer(serializers.Serializer):
    """A transfer as the Transactions tab lists it."""

    # quantity: `total_quantity`, the caller's (annotated by transfers.selectors.transactions_for, or set)
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


class TransferItemSerializer(serializers.Serializer):
    # One batch a transfer moved (transfers.selectors.transfer_items reads what it shows).
    batch = serializers.IntegerField(source="batch_id", help_text="The batch that moved (its own id).")
    serial_number = serializers.CharField(source="batch.serial_number",
                                          help_text="The exact serial range that moved.")
    quantity = serializers.IntegerField(source="batch.quantity")
    status = serializers.CharField(source="batch.status", help_text="The moved batch's status now.")
    source_batch = serializers.IntegerField(source="source_batch_id", help_text="The batch it was taken from.")
    source_serial_number = serializers.CharField(source="source_batch.serial_number")
    source_account = serializers.CharField(source="source_account.public_id")


class RetirementDetailsSerializer(serializers.Serializer):
    # What a retirement counts toward, and for whom (its option read with it).
    reference = serializers.CharField(help_text="The retirement's public reference, its id: "
                                                "`/retirements/{reference}/statement.pdf` and `/verify/{reference}/` "
                                                "take it.")
    option = serializers.CharField(source="option.name")
    compliance_period = serializers.IntegerField(allow_null=True)
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    beneficiary = serializers.CharField()
    private = serializers.BooleanField(source="is_private")
