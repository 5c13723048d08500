"""The API's transfers, retirements and mass uploads: the same selectors, FilterSets and services
as the pages (the Transactions and Retired tabs, the transfer's page, the wizard, the mass-transfer
page), answered as JSON. A body's serializer checks its shape and looks up what it names; the
service decides, and its refusal is answered as a problem naming the body's fields (each view's
`refusal_fields`: api.problems). Every request is its key's organization's: another organization's
transfer, retirement or upload is a 404."""

from django.http import Http404, HttpResponse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import renderers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from mass_uploads.forms import MassUploadForm
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create, mass_upload_release
from retirements.filters import RetirementFilter
from retirements.models import Retirement
from retirements.selectors import retirement_of, retirements_for
from retirements.services import retirement_write
from retirements.statements import statement_pdf
from transfers.filters import TRANSFER_ID_PATTERN, TransactionFilter, TransferIdFilter
from transfers.models import Transfer
from transfers.selectors import transactions_for, transfer_history, transfer_items
from transfers.services import transfer_accept, transfer_reject, transfer_withdraw, transfer_write
from utilities.replica import reads_may_lag

from . import serializers_transfers as bodies
from .idempotency import idempotent
from .models import ApiKey
from .schema import FilteredListSchema
from .views import ID, REFERENCE_PARAMETER, KnownQueryParameters, OrganizationFilterBackend, object_id

Scope = ApiKey.Scope
ITEMS_SHOWN = 1000  # a transfer's items in its detail: the summary CSV lists every one


# The path's id of each resource, of one type: a transfer's (and a mass upload's) number, a
# retirement's public reference (REFERENCE_PARAMETER). The path takes any text (ID): one that is no
# such object is a 404.
TRANSFER_ID_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH,
                                         description="The transfer's number, as the pages show it (Transfer 1042).")
UPLOAD_ID_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The mass upload's id.")


def transfer_of(organization, pk) -> Transfer:
    """A submitted transfer the organization sent or was sent, with what its detail shows; a draft,
    or another organization's transfer, is a 404."""
    transfer = transactions_for(organization).filter(pk=object_id(pk)).select_related("retirement__option").first()
    if transfer is None:
        raise Http404("No such transfer.")
    return transfer


def transfer_detail(transfer: Transfer) -> dict:
    transfer.item_count = transfer.items.count()
    transfer.items_shown = list(transfer_items(transfer)[:ITEMS_SHOWN])
    transfer.history_shown = list(transfer_history(transfer))
    return bodies.TransferDetailSerializer(transfer).data


# The Transactions tab's transfer id takes "1042", "#1042" or "Transfer 1042" (transfers.filters).
extend_schema_field({"type": "string", "pattern": TRANSFER_ID_PATTERN})(TransferIdFilter)


DECIDED = {200: OpenApiResponse(bodies.TransferDetailSerializer, description="The transfer, decided.")}


@extend_schema_view(
    list=extend_schema(summary="List transfers",
                       description="Transfers the organization sent or was sent, with the Transactions tab's "
                                   "filters (the same FilterSet), a page at a time (`cursor`; `page_size` up to "
                                   "1,000), oldest first. Drafts are not listed."),
    retrieve=extend_schema(summary="One transfer", responses=bodies.TransferDetailSerializer,
                           parameters=[TRANSFER_ID_PARAMETER]),
    create=extend_schema(
        summary="Create a transfer", request=bodies.TransferCreateSerializer,
        responses={201: bodies.TransferCreatedSerializer},
        description="Moves batch quantities (the lowest serials of each) to one destination, as the wizard's "
                    "confirm does: internal transfers complete at once; to another organization or out of the "
                    "platform they are pending. A partial move replaces the batch with two, the part that moved "
                    "and the part that stayed: the answer's `lines` name them. Scope: trade."),
    accept=extend_schema(summary="Accept a transfer", request=bodies.TransferAcceptSerializer, responses=DECIDED,
                         parameters=[TRANSFER_ID_PARAMETER],
                         description="The recipient takes a pending transfer into one of its open active accounts. "
                                     "Scope: trade."),
    reject=extend_schema(summary="Reject a transfer", request=bodies.TransferRejectSerializer, responses=DECIDED,
                         parameters=[TRANSFER_ID_PARAMETER],
                         description="The recipient refuses a pending transfer; the certificates go back to the "
                                     "sender. Scope: trade."),
    withdraw=extend_schema(summary="Withdraw a transfer", request=None, responses=DECIDED,
                           parameters=[TRANSFER_ID_PARAMETER],
                           description="The sender takes back a transfer still pending. Scope: trade."),
)
class TransferViewSet(KnownQueryParameters, viewsets.GenericViewSet):
    """Transfers the organization sent or was sent."""

    scopes = {"list": Scope.READ, "retrieve": Scope.READ, "create": Scope.TRADE, "accept": Scope.TRADE,
              "reject": Scope.TRADE, "withdraw": Scope.TRADE}
    serializer_class = bodies.TransferSerializer
    parser_classes = [JSONParser]
    filter_backends = [OrganizationFilterBackend]
    filterset_class = TransactionFilter
    queryset = Transfer.objects.none()  # the schema's model; requests read get_queryset's
    schema = FilteredListSchema()
    lookup_value_regex = ID

    def get_queryset(self):
        return transactions_for(self.request.auth.organization)

    @reads_may_lag
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(bodies.TransferSerializer(page, many=True).data)

    def retrieve(self, request, pk: str):
        return Response(transfer_detail(transfer_of(request.auth.organization, pk)))

    @idempotent
    def create(self, request):
        organization = request.auth.organization
        body = bodies.TransferCreateSerializer(data=request.data, context={"organization": organization})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lines = data["lines"]
        transfer = transfer_write(organization=organization, user=request.user, lines=lines,
                                  destination=data["destination"], notes=data["notes"])
        transfer.total_quantity = sum(line.quantity for line in lines)
        transfer.created_lines = bodies.created_lines(transfer, lines)
        return Response(bodies.TransferCreatedSerializer(transfer).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}{transfer.pk}/"})

    def _decided(self, request, pk: str, body_serializer, decide) -> Response:
        """`decide(transfer, organization, body)` on a transfer the organization can see (else 404)."""
        organization = request.auth.organization
        transfer = transfer_of(organization, pk)
        body = body_serializer(data=request.data, context={"organization": organization})
        body.is_valid(raise_exception=True)
        decide(transfer, organization, body.validated_data)
        return Response(transfer_detail(transfer_of(organization, pk)))

    @action(detail=True, methods=["post"])
    @idempotent
    def accept(self, request, pk: str):
        return self._decided(request, pk, bodies.TransferAcceptSerializer, lambda transfer, organization, body:
                             transfer_accept(transfer=transfer, user=request.user, organization=organization,
                                             account=body["account"]))

    @action(detail=True, methods=["post"])
    @idempotent
    def reject(self, request, pk: str):
        return self._decided(request, pk, bodies.TransferRejectSerializer, lambda transfer, organization, body:
                             transfer_reject(transfer=transfer, user=request.user, organization=organization,
                                             note=body["note"]))

    @action(detail=True, methods=["post"])
    @idempotent
    def withdraw(self, request, pk: str):
        return self._decided(request, pk, bodies.TransferWithdrawSerializer, lambda transfer, organization, body:
                             transfer_withdraw(transfer=transfer, user=request.user, organization=organization))


class PdfRenderer(renderers.BaseRenderer):
    """application/pdf for a client that asks for it: the view answers the PDF itself; a problem
    (a 404, say) is still JSON, with its own content type."""

    media_type, format, charset, render_style = "application/pdf", "pdf", None, "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data)


@extend_schema_view(
    list=extend_schema(summary="List retirements",
                       description="The organization's retirements with the Retired tab's filters (the same "
                                   "FilterSet; `option` is a retirement option's name, as `/retirement-options/` "
                                   "lists them), a page at a time, oldest first. A regulator's key reads, with "
                                   "them, every retirement toward the programs the regulator administers, of any "
                                   "organization (`organization` names who retired), and nothing else of another "
                                   "organization."),
    create=extend_schema(
        summary="Retire certificates", request=bodies.RetirementCreateSerializer,
        responses={201: bodies.RetirementCreatedSerializer},
        description="Retires batch quantities (the lowest serials of each) into one of the organization's open "
                    "retirement accounts, for good, with what the retirement counts toward and the details that "
                    "option needs (each missing or wrong detail is named in the problem's `errors`). The answer's "
                    "`lines` name the batch retired and the one that stayed of each line. Scope: retire."),
)
class RetirementViewSet(KnownQueryParameters, viewsets.GenericViewSet):
    """The organization's retirements: certificates retired for good, toward what and for whom."""

    scopes = {"list": Scope.READ, "statement": Scope.READ, "create": Scope.RETIRE}
    # The body names the retirement's account and details at its top level (api.problems).
    refusal_fields = bodies.RETIREMENT_FIELDS
    serializer_class = bodies.RetirementSerializer
    parser_classes = [JSONParser]
    filter_backends = [DjangoFilterBackend]
    filterset_class = RetirementFilter
    queryset = Retirement.objects.none()
    schema = FilteredListSchema()
    lookup_value_regex = ID

    def get_queryset(self):
        return retirements_for(self.request.auth.organization)

    def get_renderers(self):
        if self.action == "statement":
            return [renderers.JSONRenderer(), PdfRenderer()]
        return super().get_renderers()

    @reads_may_lag
    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(bodies.RetirementSerializer(page, many=True).data)

    @idempotent
    def create(self, request):
        organization = request.auth.organization
        body = bodies.RetirementCreateSerializer(data=request.data, context={"organization": organization})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        lines = data["lines"]
        transfer = retirement_write(organization=organization, user=request.user, lines=lines,
                                    account=data["account"], details=data["details"], notes=data["notes"])
        retirement = retirements_for(organization).get(transfer=transfer)
        retirement.created_lines = bodies.created_lines(transfer, lines)
        return Response(bodies.RetirementCreatedSerializer(retirement).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}{retirement.reference}/statement.pdf"})

    @extend_schema(summary="A retirement's statement (PDF)", responses={(200, "application/pdf"): OpenApiTypes.BINARY},
                   operation_id="retirements_statement_retrieve",
                   parameters=[OpenApiParameter("format", exclude=True), REFERENCE_PARAMETER],
                   description="The same statement as the retirement's page: its record, digest, and the "
                               "verification page's address and QR code.")
    def statement(self, request, reference: str):
        retirement = retirement_of(request.auth.organization, reference)
        if retirement is None:
            raise Http404("No such retirement.")
        response = HttpResponse(statement_pdf(retirement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="retirement-{retirement.reference}.pdf"'
        return response


def _retiring_allowed(request, kind: str) -> None:
    """A file of retirements needs a key with the retire scope."""
    if kind == MassTransferUpload.Kind.RETIREMENT and not request.auth.grants(Scope.RETIRE):
        raise PermissionDenied(f"This API key's scope is {request.auth.scope}; a file of retirements needs a "
                               f"key with the {Scope.RETIRE} scope.")


@extend_schema_view(
    create=extend_schema(
        summary="Upload a mass transfer or retirement file",
        request={"multipart/form-data": bodies.MassUploadCreateSerializer},
        responses={201: bodies.MassUploadSerializer},
        description="Stores a CSV file of transfers or retirements (the templates of the mass-transfer page, at "
                    "most 10 MB) and queues it: a worker checks every row, then applies all of them in one "
                    "transaction, or none. The same file within a day is held (status `held`) until processed or "
                    "discarded (`release`). Scope: trade; a file of retirements: retire."),
    retrieve=extend_schema(summary="A mass upload's status", parameters=[UPLOAD_ID_PARAMETER]),
    release=extend_schema(summary="Process or discard a held mass upload", request=bodies.MassUploadReleaseSerializer,
                          responses=bodies.MassUploadSerializer, parameters=[UPLOAD_ID_PARAMETER],
                          description="The same file uploaded within a day is held: process it after all, or "
                                      "discard it, as on its page. Scope: trade; a file of retirements: retire."),
    errors=extend_schema(summary="A mass upload's errors", responses=bodies.MassUploadErrorsSerializer,
                         parameters=[UPLOAD_ID_PARAMETER],
                         description="Every wrong row of a failed upload, by row number and column (row 0: the "
                                     "file as a whole)."),
)
class MassUploadViewSet(KnownQueryParameters, viewsets.GenericViewSet):
    """Mass certificate transfers and retirements: a CSV file, checked and applied by a worker, all
    or nothing."""

    scopes = {"create": Scope.TRADE, "release": Scope.TRADE, "retrieve": Scope.READ, "errors": Scope.READ}
    refusal_fields = {"upload": "file"}  # (api.problems)
    parser_classes = [MultiPartParser, JSONParser]
    serializer_class = bodies.MassUploadSerializer
    queryset = MassTransferUpload.objects.none()
    lookup_value_regex = ID

    def get_queryset(self):
        return MassTransferUpload.objects.filter(organization=self.request.auth.organization)

    @idempotent
    def create(self, request):
        form = MassUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            raise ValidationError({name: list(messages) for name, messages in form.errors.items()})
        kind = form.cleaned_data["kind"]
        _retiring_allowed(request, kind)
        upload = mass_upload_create(organization=request.auth.organization, user=request.user,
                                    upload=form.cleaned_data["file"], kind=kind)
        return Response(bodies.MassUploadSerializer(upload).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}{upload.pk}/"})

    def get_object(self) -> MassTransferUpload:
        upload = self.get_queryset().filter(pk=object_id(self.kwargs["pk"])).first()
        if upload is None:
            raise Http404("No such upload.")
        return upload

    def retrieve(self, request, pk: str):
        return Response(bodies.MassUploadSerializer(self.get_object()).data)

    @action(detail=True, methods=["post"])
    @idempotent
    def release(self, request, pk: str):
        upload = self.get_object()
        body = bodies.MassUploadReleaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _retiring_allowed(request, upload.kind)
        mass_upload_release(upload=upload, user=request.user, process=body.validated_data["process"])
        return Response(bodies.MassUploadSerializer(upload).data)

    @action(detail=True, methods=["get"])
    def errors(self, request, pk: str):
        return Response(bodies.MassUploadErrorsSerializer(self.get_object()).data)
