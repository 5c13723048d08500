"""The API's read endpoints: each a thin view over the selectors and FilterSet the pages use,
scoped to the key's organization (request.auth.organization)."""

import datetime

from django.http import Http404
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import exceptions, generics
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Account
from accounts.selectors import accounts_with_balances
from certificates.filters import DEFAULT_SORT, HOURS, SORTS, HourFilter, IntervalFilter, MonthFilter
from certificates.models import CertificateBatch
from certificates.periods import MONTH_PATTERN
from certificates.selectors import batch_replacements, batches_filtered, batches_for_dashboard
from certificates.views import BATCH_TABS, batches_csv
from programs.filters import ProgramBatchFilter, ProgramCodeFilter
from retirements.models import REFERENCE_ALPHABET, REFERENCE_LENGTH
from retirements.selectors import retirement_by_reference
from retirements.statements import verification_record
from utilities.parsing import positive_integer
from utilities.replica import reads_may_lag

from .examples import BATCHES_CSV
from .models import ApiKey
from .schema import FilteredListSchema
from .serializers import (
    AccountSerializer,
    BatchDetailSerializer,
    BatchSerializer,
    OrganizationSerializer,
    VerificationSerializer,
)
from .serializers_intervals import FILTER_MOMENT_PATTERN
from .throttling import VerifyThrottle

ID = "[^/]+"  # an id in a path, read by object_id: anything else there is a 404 problem, not the site's page


def object_id(text: str) -> int:
    """The id in a path (utilities.parsing reads it), or a 404."""
    number = positive_integer(text)
    if number is None:
        raise Http404("No such object.")
    return number


class KnownQueryParameters:
    """Refuses a query parameter the operation does not take, with a 400 naming it: a misspelt
    filter (`?fule=wind`) must not answer every row. An operation takes its FilterSet's filters,
    its paginator's `cursor` and `page_size`, and the names in `query_parameters`. (And an id in the
    path that holds a NUL names nothing: a 404. And every time is answered in UTC, and every answer
    says where its key stands with its rate limit: dispatch, finalize_response.)"""

    query_parameters: tuple[str, ...] = ()

    def dispatch(self, request, *args, **kwargs):
        # Every API view takes this class: the one place the API's times are made UTC (ISO 8601 with
        # `Z`, as utilities.display.iso_utc writes them), whatever zone a session cookie would choose.
        with timezone.override(datetime.UTC):
            return super().dispatch(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        # Every answer counted against a rate limit (a 429 too) says where its client stands.
        response = super().finalize_response(request, response, *args, **kwargs)
        if rate_limit := getattr(request, "rate_limit", None):
            for name, value in rate_limit.headers().items():
                response[name] = value
        return response

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # the key, its scope and its rate first
        if any("\x00" in str(value) for value in kwargs.values()):  # PostgreSQL refuses a NUL in text
            raise exceptions.NotFound("No such object.")
        if not hasattr(self, request.method.lower()):
            return  # a method the operation does not take: 405, whatever the parameters
        known = set(self.query_parameters)
        if filterset_class := getattr(self, "filterset_class", None):
            known |= set(filterset_class.base_filters)
        if paginator := getattr(self, "paginator", None):
            known |= {paginator.cursor_query_param, paginator.page_size_query_param}
        if unknown := sorted(set(request.query_params) - known):
            raise exceptions.ValidationError(
                {name: ["This operation takes no such query parameter."] for name in unknown})


class OrganizationView(KnownQueryParameters, APIView):
    """The key's organization."""

    required_scope = ApiKey.Scope.READ

    @extend_schema(summary="The key's organization", responses=OrganizationSerializer)
    def get(self, request: Request) -> Response:
        return Response(OrganizationSerializer(request.auth.organization).data)


@extend_schema(summary="List accounts")
class AccountList(KnownQueryParameters, generics.ListAPIView):
    """The organization's holding accounts, each with its balances."""

    required_scope = ApiKey.Scope.READ
    serializer_class = AccountSerializer
    queryset = Account.objects.none()  # the schema's model; requests read get_queryset's
    pagination_class = None  # a handful a organization

    def get_queryset(self):
        return accounts_with_balances(self.request.auth.organization)


@extend_schema(summary="One account",
               parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH,
                                            description="The account's public id, e.g. ACT-00031 (in any case).")])
class AccountDetail(KnownQueryParameters, generics.RetrieveAPIView):
    """One of the organization's accounts, by its public id (ACT-00031)."""

    required_scope = ApiKey.Scope.READ
    serializer_class = AccountSerializer
    queryset = Account.objects.none()
    lookup_field, lookup_url_kwarg = "public_id__iexact", "id"  # as NamedChoiceField reads one

    def get_queryset(self):
        return accounts_with_balances(self.request.auth.organization)


class OrganizationFilterBackend(DjangoFilterBackend):
    """django-filter's backend for a FilterSet made for one organization (the dashboard's ProgramBatchFilter)."""

    def get_filterset_kwargs(self, request, queryset, view):
        return super().get_filterset_kwargs(request, queryset, view) | {"organization": request.auth.organization}


STATUS_PARAMETER = OpenApiParameter(
    "status", str, enum=list(BATCH_TABS), default="active",
    description="The dashboard's tab: active (held, free to move) or exported.")


# The vintage filters take a month (certificates.filters.MonthFilter), not the period column's range
# (a type the schema's generator cannot read: it is told the filter's).
extend_schema_field({"type": "string", "pattern": MONTH_PATTERN})(MonthFilter)
# The interval filters take a moment (certificates.filters.MomentField), and the hour of day its number.
extend_schema_field({"type": "string", "pattern": FILTER_MOMENT_PATTERN, "example": "2026-11-03T20:00:00Z"})(
    IntervalFilter)
extend_schema_field({"type": "string", "enum": ["", *(hour for hour, _ in HOURS)],
                     "description": "Intervals (not months) starting in this hour of the day, 0 to 23, in the "
                                    "registry's time zone."})(HourFilter)
extend_schema_field({"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "example": "mn-res-2025"})(ProgramCodeFilter)
BATCH_PARAMETERS = [STATUS_PARAMETER] + [
    OpenApiParameter(name, {"type": "string", "pattern": MONTH_PATTERN},
                     description=f"{label}: a month, MM/YYYY or YYYY-MM (e.g. 01/2020).")
    for name, label in [("vintage_from", "Vintage from"), ("vintage_to", "Vintage to")]]


SORT_CHOICES = [order + column for column in SORTS for order in ("", "-")]
SORT_PARAMETER = OpenApiParameter(
    "sort", str, enum=SORT_CHOICES, default=DEFAULT_SORT,
    description="The rows' order, as the dashboard's column headings sort them: a column, or `-` and a column for "
                "descending.")


def batch_status(request: Request) -> str:
    status = request.query_params.get("status", "active")
    if status not in BATCH_TABS:
        raise exceptions.ValidationError({"status": [f"Choose one of: {', '.join(BATCH_TABS)}."]})
    return BATCH_TABS[status]


@extend_schema(summary="List batches", parameters=BATCH_PARAMETERS)
class BatchList(KnownQueryParameters, generics.ListAPIView):
    """The organization's batches in one status, with every filter of the dashboard (the same
    FilterSet, programs.filters.ProgramBatchFilter), a page at a time (`cursor`; `page_size` up to 1,000)."""

    required_scope = ApiKey.Scope.READ
    schema = FilteredListSchema()
    query_parameters = ("status",)
    serializer_class = BatchSerializer
    filter_backends = [OrganizationFilterBackend]
    filterset_class = ProgramBatchFilter
    queryset = CertificateBatch.objects.none()  # the schema's model; requests read get_queryset's

    def get_queryset(self):
        return batches_for_dashboard(self.request.auth.organization, batch_status(self.request))

    @reads_may_lag
    def list(self, request: Request, *args, **kwargs) -> Response:
        rows = self.filter_queryset(self.get_queryset()).values(*BatchSerializer.COLUMNS)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(BatchSerializer(page, many=True).data)


class BatchDetail(KnownQueryParameters, APIView):
    """Any batch the organization can see (one of its accounts holds it), in any status, as the
    batches list shows it; a superseded batch with the batches that replaced it."""

    required_scope = ApiKey.Scope.READ

    @extend_schema(
        summary="One batch", responses=BatchDetailSerializer,
        operation_id="batches_retrieve",
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH,
                                     description="The batch's id (`id` in the batches list; `moved` or `remaining` "
                                                 "in a transfer's answer).")],
        description="A batch in any status (active, pending in a transfer, retired, exported, superseded, "
                    "voided by the registry) while "
                    "one of the organization's accounts holds it; once it is another organization's (a transfer "
                    "accepted), a 404. A partial move supersedes the batch it took from: `replaced_by` names the "
                    "two batches that replaced it, the part that moved and the part that stayed.",
        examples=[OpenApiExample("A batch split by a partial transfer", value={
            "id": 812, "serial_number": "M805-MN-01-2020-3F9A1C-1 to 1000", "serial_start": 1, "serial_end": 1000,
            "quantity": 1000, "status": "superseded", "account": "ACT-00031", "account_name": "Main active",
            "generator": "M805", "generator_name": "Prairie Ridge Wind", "fuel": "wind", "state": "MN",
            "vintage": "2020-01", "eligibilities": ["MN RES"], "issued_at": "2020-02-03T09:00:00-06:00",
            "origin": None, "replaced_by": [9001, 9002]}, response_only=True)])
    def get(self, request: Request, id: str) -> Response:
        row = (CertificateBatch.objects.visible_to(request.auth.organization).filter(pk=object_id(id))
               .values(*BatchSerializer.COLUMNS).order_by().first())
        if row is None:
            raise exceptions.NotFound("No batch with this id is in your organization's accounts.")
        row["replaced_by"] = batch_replacements(row["pk"]) if row["status"] == CertificateBatch.Status.SUPERSEDED \
            else []
        return Response(BatchDetailSerializer(row).data)


class CsvAccepted(JSONRenderer):
    """Lets a client that accepts only text/csv reach the download (the file is streamed as it is,
    past the renderers); a problem is still JSON (application/problem+json)."""

    media_type = "text/csv"
    format = "csv"


class BatchDownload(KnownQueryParameters, APIView):
    """The dashboard's CSV download of the batches in one status and filter (the same file)."""

    renderer_classes = [JSONRenderer, CsvAccepted]
    schema = FilteredListSchema()
    required_scope = ApiKey.Scope.READ
    query_parameters = ("status", "sort")
    filter_backends = [OrganizationFilterBackend]  # the schema's query parameters
    filterset_class = ProgramBatchFilter
    queryset = CertificateBatch.objects.none()

    @extend_schema(summary="Download batches (CSV)", parameters=[*BATCH_PARAMETERS, SORT_PARAMETER],
                   responses={(200, "text/csv"): OpenApiResponse(
                       OpenApiTypes.STR, description="The batches, a row each, as the dashboard's download (its "
                                                     "dates in UTC, as every time the API answers).",
                       examples=[OpenApiExample("Batches", value=BATCHES_CSV)])})
    @reads_may_lag
    def get(self, request: Request):
        status = batch_status(request)
        if request.query_params.get("sort", DEFAULT_SORT) not in SORT_CHOICES:
            raise exceptions.ValidationError({"sort": [f"Choose one of: {', '.join(SORT_CHOICES)}."]})
        batch_filter, queryset, _ = batches_filtered(request.query_params, request.auth.organization, status,
                                                           ProgramBatchFilter)
        if batch_filter.is_bound and not batch_filter.is_valid():
            raise exceptions.ValidationError(batch_filter.errors)
        return batches_csv(queryset, status)


REFERENCE_CHARACTERS = "".join(sorted(set(REFERENCE_ALPHABET + REFERENCE_ALPHABET.lower())))
REFERENCE_PARAMETER = OpenApiParameter(
    "reference", {"type": "string", "pattern": f"^[{REFERENCE_CHARACTERS}]{{{REFERENCE_LENGTH}}}$"},
    OpenApiParameter.PATH, description="The retirement's public reference, e.g. 7QK2M9XH4TBW1C3D5E6F (in any case).")


class Verification(KnownQueryParameters, APIView):
    """Public, no key: a retirement's verification record by its reference (as /verify/<reference>.json),
    limited like the verification page for each address."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [VerifyThrottle]

    @extend_schema(summary="Verify a retirement", responses=VerificationSerializer, auth=[],
                   parameters=[REFERENCE_PARAMETER])
    def get(self, request: Request, reference: str) -> Response:
        retirement = retirement_by_reference(reference)
        if retirement is None:
            raise exceptions.NotFound("No retirement has this reference.")
        return Response(verification_record(retirement))




@extend_schema(exclude=True)
class NoSuchOperation(APIView):
    """Any other address under /api/: a 404 problem rather than the portal's HTML page."""

    authentication_classes = []
    permission_classes = []

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound(f"No API operation at {request.path}; the operations are listed at /api/docs/.")

    get = post = put = patch = delete = http_method_not_allowed
