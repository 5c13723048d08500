"""The API's transfers, retirements and mass uploads: the same selectors, forms and services as the
pages (the Transactions and Retired tabs, the transfer's page, the wizard, the mass-transfer page),
answered as JSON. Every request is its key's organization's: another organization's transfer,
retirement or upload is a 404."""

from django.http import Http404, HttpResponse
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from transfers.forms import MassUploadForm
from transfers.models import MassTransferUpload, Transfer
from transfers.selectors import (
    retirements_filtered,
    retirements_for,
    transactions_filtered,
    transactions_for,
    transfer_history,
    transfer_items,
)
from transfers.services import (
    mass_upload_create,
    retirement_create,
    transfer_accept,
    transfer_create,
    transfer_reject,
    transfer_withdraw,
)
from transfers.statements import statement_pdf

from . import serializers_transfers as bodies
from .idempotency import idempotent
from .models import ApiKey
from .transfer_requests import accept_account_read, destination_read, lines_read, refuse, retirement_read

Scope = ApiKey.Scope
ITEMS_SHOWN = 1000  # a transfer's items in its detail: the summary CSV lists every one
ID = "[0-9]{1,18}"  # an id in a path: digits that fit PostgreSQL's bigint


def _filtered(filter_and_queryset):
    """The list's FilterSet applied (the tab's own), or its errors by field."""
    list_filter, queryset, _ = filter_and_queryset
    if list_filter.is_bound and not list_filter.is_valid():
        raise ValidationError(list_filter.errors)
    return queryset


def transfer_of(organization, pk) -> Transfer:
    """A submitted transfer the organization sent or was sent, with what its detail shows; a draft,
    or another organization's transfer, is a 404."""
    transfer = transactions_for(organization).filter(pk=pk).select_related("retirement__option").first()
    if transfer is None:
        raise Http404("No such transfer.")
    return transfer


def transfer_detail(transfer: Transfer) -> dict:
    transfer.item_count = transfer.items.count()
    transfer.items_shown = list(transfer_items(transfer)[:ITEMS_SHOWN])
    transfer.history_shown = list(transfer_history(transfer))
    return bodies.TransferDetailSerializer(transfer).data


class TransferViewSet(viewsets.GenericViewSet):
    """Transfers the organization sent or was sent."""

    lookup_value_regex = ID

    scopes = {"list": Scope.READ, "retrieve": Scope.READ, "create": Scope.TRADE, "accept": Scope.TRADE,
              "reject": Scope.TRADE, "withdraw": Scope.TRADE}
    serializer_class = bodies.TransferSerializer

    def get_queryset(self):
        return _filtered(transactions_filtered(self.request.query_params, self.request.auth.organization))

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(bodies.TransferSerializer(page, many=True).data)

    def retrieve(self, request, pk: int):
        return Response(transfer_detail(transfer_of(request.auth.organization, pk)))

    @idempotent
    def create(self, request):
        body = bodies.TransferCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organization, data = request.auth.organization, body.validated_data
        batches, lines = lines_read(organization, data["lines"])
        destination = destination_read(organization, batches, data["destination"], data["notes"])
        transfer = transfer_create(organization=organization, user=request.user, lines=lines,
                                   destination=destination, notes=data["notes"])
        transfer.total_quantity = sum(line.quantity for line in lines)
        return Response(bodies.TransferSerializer(transfer).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}{transfer.pk}/"})

    def _decided(self, request, pk: int, decide) -> Response:
        """`decide(transfer, organization, body)` on a transfer the organization can see (else 404)."""
        organization = request.auth.organization
        transfer = transfer_of(organization, pk)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        decide(transfer, organization, body.validated_data)
        return Response(transfer_detail(transfer_of(organization, pk)))

    def get_serializer_class(self):
        return {"accept": bodies.TransferAcceptSerializer, "reject": bodies.TransferRejectSerializer,
                "withdraw": bodies.TransferWithdrawSerializer}.get(self.action, bodies.TransferSerializer)

    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request, pk: int):
        return self._decided(request, pk, lambda transfer, organization, body: transfer_accept(
            transfer=transfer, user=request.user, organization=organization,
            account=accept_account_read(organization, body["account"])))

    @action(detail=True, methods=["post"])
    @idempotent
    def reject(self, request, pk: int):
        return self._decided(request, pk, lambda transfer, organization, body: transfer_reject(
            transfer=transfer, user=request.user, organization=organization, note=body["note"]))

    @action(detail=True, methods=["post"])
    @idempotent
    def withdraw(self, request, pk: int):
        return self._decided(request, pk, lambda transfer, organization, body: transfer_withdraw(
            transfer=transfer, user=request.user, organization=organization))


class RetirementViewSet(viewsets.GenericViewSet):
    """The organization's retirements: certificates retired for good, toward what and for whom."""

    lookup_value_regex = ID

    scopes = {"list": Scope.READ, "statement": Scope.READ, "create": Scope.RETIRE}
    serializer_class = bodies.RetirementSerializer

    def get_queryset(self):
        return _filtered(retirements_filtered(self.request.query_params, self.request.auth.organization))

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(bodies.RetirementSerializer(page, many=True).data)

    @idempotent
    def create(self, request):
        body = bodies.RetirementCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        organization, data = request.auth.organization, body.validated_data
        _, lines = lines_read(organization, data["lines"])
        account, details = retirement_read(organization, data)
        transfer = retirement_create(organization=organization, user=request.user, lines=lines, account=account,
                                     details=details, notes=data["notes"])
        retirement = retirements_for(organization).get(transfer=transfer)
        return Response(bodies.RetirementSerializer(retirement).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}{transfer.pk}/statement.pdf"})

    def statement(self, request, pk: int):
        retirement = retirements_for(request.auth.organization).filter(transfer_id=pk).first()
        if retirement is None:
            raise Http404("No such retirement.")
        response = HttpResponse(statement_pdf(retirement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="retirement-{retirement.reference}.pdf"'
        return response


class MassUploadViewSet(viewsets.GenericViewSet):
    """Mass certificate transfers and retirements: a CSV file, checked and applied by a worker, all
    or nothing."""

    lookup_value_regex = ID

    scopes = {"create": Scope.TRADE, "retrieve": Scope.READ, "errors": Scope.READ}
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = bodies.MassUploadSerializer

    def get_queryset(self):
        return MassTransferUpload.objects.filter(organization=self.request.auth.organization)

    @idempotent
    def create(self, request):
        form = MassUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            refuse([((name,), message) for name, messages in form.errors.items() for message in messages])
        kind = form.cleaned_data["kind"]
        if kind == MassTransferUpload.Kind.RETIREMENT and not request.auth.grants(Scope.RETIRE):
            raise PermissionDenied(f"This API key's scope is {request.auth.scope}; a file of retirements needs a "
                                   f"key with the {Scope.RETIRE} scope.")
        upload = mass_upload_create(organization=request.auth.organization, user=request.user,
                                    upload=form.cleaned_data["file"], kind=kind)
        return Response(bodies.MassUploadSerializer(upload).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}{upload.pk}/"})

    def retrieve(self, request, pk: int):
        return Response(bodies.MassUploadSerializer(self.get_object()).data)

    @action(detail=True, methods=["get"])
    def errors(self, request, pk: int):
        return Response(bodies.MassUploadErrorsSerializer(self.get_object()).data)
