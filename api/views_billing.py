"""The API's invoices and charges (read): the Billing tab's selectors and its rule of who may read
them (a key made by a manager or by the billing contact), answered as JSON with billing's own
serializers (the webhooks send the same invoice). Another organization's invoice is a 404."""

from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from billing import selectors
from billing.filters import INVOICE_PATTERN, BillingPeriodFilter, ChargeFilter, InvoiceNumberFilter
from billing.models import Charge, Invoice
from billing.serializers import ChargeSerializer, InvoiceDetailSerializer, InvoiceSerializer
from certificates.periods import MONTH_PATTERN

from .models import ApiKey
from .schema import FilteredListSchema
from .views import ID, KnownQueryParameters, object_id

LINES_SHOWN = 1000  # an invoice's lines in its detail: /api/v1/charges/?invoice= pages through every one

INVOICE_NUMBER_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH,
                                            description="The invoice's number (41 for INV-000041).")

extend_schema_field({"type": "string", "pattern": INVOICE_PATTERN,
                     "description": "The invoice they are on: INV-000041, or 41."})(InvoiceNumberFilter)
extend_schema_field({"type": "string", "pattern": MONTH_PATTERN,
                     "description": "A month, YYYY-MM or MM/YYYY: the charges of the billing period it is in."})(
    BillingPeriodFilter)


class BillingReader:
    """Only a key made by a manager or by the organization's billing contact reads its billing, as
    only they see the Billing tab (billing.selectors.billing_reader_refusal)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if refusal := selectors.billing_reader_refusal(organization=request.auth.organization, user=request.user):
            raise PermissionDenied(f"{refusal} This API key was made by someone who is neither.")


def _with_status(invoices: list[Invoice]) -> list[Invoice]:
    today = selectors.billing_today()
    for invoice in invoices:
        invoice.status = selectors.invoice_status(invoice, today)
    return invoices


@extend_schema_view(
    list=extend_schema(summary="List invoices",
                       description="The organization's invoices, oldest first, a page at a time (`cursor`; "
                                   "`page_size` up to 1,000), each with what is left to pay and its status now. "
                                   "Scope: read, by a key a manager or the billing contact made."),
    retrieve=extend_schema(summary="One invoice", responses=InvoiceDetailSerializer,
                           parameters=[INVOICE_NUMBER_PARAMETER],
                           description=f"An invoice with its lines (the first {LINES_SHOWN:,}; "
                                       "`/api/v1/charges/?invoice=` pages through every one)."),
)
class InvoiceViewSet(BillingReader, KnownQueryParameters, viewsets.GenericViewSet):
    """The organization's invoices."""

    required_scope = ApiKey.Scope.READ
    serializer_class = InvoiceSerializer
    queryset = Invoice.objects.none()  # the schema's model; requests read get_queryset's
    lookup_field, lookup_url_kwarg, lookup_value_regex = "number", "pk", ID

    def get_queryset(self):
        return selectors.invoices_with_balance().filter(organization=self.request.auth.organization)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(InvoiceSerializer(_with_status(page), many=True).data)

    def retrieve(self, request, pk: str):
        invoice = self.get_queryset().filter(number=object_id(pk)).first()
        if invoice is None:
            raise Http404("No such invoice.")
        _with_status([invoice])
        lines = selectors.invoice_lines(invoice)
        invoice.line_count = lines.count()
        invoice.lines_shown = list(lines.select_related("invoice")[:LINES_SHOWN])
        return Response(InvoiceDetailSerializer(invoice).data)


@extend_schema(summary="List charges",
               description="The organization's charges, oldest first, a page at a time (`cursor`; `page_size` up "
                           "to 1,000): the current period's so far (`invoiced=false`) and those on an invoice, by "
                           "billing period (`period`, a month of it) or invoice (`invoice`). A credit is negative. "
                           "Scope: read, by a key a manager or the billing contact made.")
class ChargeList(BillingReader, KnownQueryParameters, generics.ListAPIView):
    required_scope = ApiKey.Scope.READ
    serializer_class = ChargeSerializer
    queryset = Charge.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = ChargeFilter
    schema = FilteredListSchema()

    def get_queryset(self):
        return selectors.charges_of(self.request.auth.organization)
