"""An invoice and a charge as the registry shows them to other systems: one representation,
answered by the API (/api/v1/invoices/, /api/v1/charges/) and sent in the webhooks' bodies
(webhooks.payloads), so that an integrator reads one shape wherever an invoice comes from. The
API's schema documents them (its components Invoice, InvoiceDetail and Charge). Read-only."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from certificates.units import MWH_DIGITS, MWH_PLACES

from .selectors import INVOICE_STATUSES
from .values import ChargeKind, money_plain


@extend_schema_field({"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$", "examples": ["180.00"],
                      "description": "An amount of the invoice's currency, to its places (a decimal, as text)."})
class MoneyField(serializers.Field):
    """Money as the CSVs write it: the currency's places, no symbol nor grouping (`1234.50`). Not
    marked read-only, as no field of these serializers is: the webhooks' bodies send the same shape
    (a request, for OpenAPI), where a read-only property may not appear."""

    def to_representation(self, value):
        return money_plain(value)


class InvoiceSerializer(serializers.Serializer):
    """An invoice as the Billing tab lists it; `balance` and `status` as they are now (the caller
    annotates `balance`, billing.selectors.invoices_with_balance, and sets `status`)."""

    number = serializers.IntegerField()
    reference = serializers.CharField(help_text="`INV-` and the number, as the PDF and the emails print it.")
    period_start = serializers.DateField(help_text="The first day of the billing period.")
    period_end = serializers.DateField(help_text="The first day after the billing period.")
    issued_at = serializers.DateTimeField()
    due_on = serializers.DateField()
    currency = serializers.CharField(help_text="ISO 4217.")
    total = MoneyField()
    balance = MoneyField(help_text="What is left to pay: the total less payments and credit notes.")
    status = serializers.ChoiceField(choices=INVOICE_STATUSES)
    bill_to = serializers.CharField(help_text="The organization and its billing contact as they were at issue.")


class ChargeSerializer(serializers.Serializer):
    """One charge: a line of an invoice, or of the current period's charges before its invoice."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ChargeKind.choices)
    description = serializers.CharField(help_text="How it was computed, as the invoice prints it.")
    occurred_at = serializers.DateTimeField(help_text="When what it charges happened.")
    year = serializers.IntegerField(help_text="The calendar year its free certificates count toward.")
    quantity = serializers.DecimalField(
        max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, normalize_output=True,
        help_text="MWh charged, as a decimal string (0 for a subscription or a fee): a monthly REC is one, an "
                  "hourly certificate (Wh) a millionth of one.")
    free_quantity = serializers.DecimalField(max_digits=MWH_DIGITS, decimal_places=MWH_PLACES, normalize_output=True,
                                             help_text="Of them, within the year's free threshold.")
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=6, allow_null=True)
    amount = MoneyField(help_text="Negative for a credit.")
    currency = serializers.CharField()
    event = serializers.IntegerField(source="event_id", allow_null=True,
                                     help_text="The domain event it charges (null for a subscription or a fee).")
    invoice = serializers.CharField(source="invoice.reference", allow_null=True, default=None,
                                    help_text="The invoice it is on; null until the period's invoice is issued.")
    credited = serializers.IntegerField(source="credited_id", allow_null=True,
                                        help_text="A credit's charge: the one that charged the voided certificates.")


class InvoiceDetailSerializer(InvoiceSerializer):
    """An invoice with its lines (the first 1,000: /api/v1/charges/?invoice= pages through every one)."""

    line_count = serializers.IntegerField(help_text="How many lines it has in all.")
    lines = ChargeSerializer(source="lines_shown", many=True)

