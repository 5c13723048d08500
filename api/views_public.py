"""The public statistics in the API: no key, limited per address as their pages are
(api.throttling.StatisticsThrottle, the pages' counter), over the selectors the pages read."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from certificates.models import FuelType, Generator, StateOrProvince, Technology
from public_stats.selectors import GROUPINGS, GeneratorQuery, generators_public, statistics_rows, statistics_total
from public_stats.values import MONTH_TEXT, Activity, StatisticsQuery
from utilities.replica import reads_may_lag

from .pagination import ApiCursorPagination
from .serializers_public import PublicGeneratorSerializer, StatisticsSerializer
from .throttling import StatisticsThrottle
from .views import KnownQueryParameters

MONTH = "^$|" + MONTH_TEXT.pattern  # public_stats.values reads it
TEXT = "^[^\\x00]*$"


def _choice(name: str, choices, description: str) -> OpenApiParameter:
    """A filter by one of `choices`; empty, as the public pages' "Any" sends it, filters nothing."""
    return OpenApiParameter(name, str, enum=["", *choices.values], description=f"{description} Empty: any.")


DIMENSION_PARAMETERS = [
    _choice("fuel", FuelType, "Only certificates of this fuel."),
    _choice("technology", Technology, "Only certificates of generators of this technology."),
    _choice("state", StateOrProvince, "Only certificates of generators in this state or province."),
]
STATISTICS_PARAMETERS = [
    OpenApiParameter("activity", str, enum=list(Activity.values), default=Activity.ISSUED.value,
                     description="What happened to the certificates counted: issued, transferred (an internal "
                                 "transfer, or one another organization accepted), retired, exported (confirmed by "
                                 "the receiving system)."),
    OpenApiParameter("by", str, enum=list(GROUPINGS), default="month", description="What each row counts by."),
    *DIMENSION_PARAMETERS,
    OpenApiParameter("eligibility", {"type": "string", "maxLength": 32, "pattern": TEXT},
                     description="Only certificates that carry this eligibility (e.g. MN RES)."),
    OpenApiParameter("program", {"type": "string", "maxLength": 40, "pattern": TEXT},
                     description="Only retirements toward this program, by its code (e.g. mn-res-2025)."),
    OpenApiParameter("month_from", {"type": "string", "pattern": MONTH},
                     description="From this month (MM/YYYY, e.g. 01/2024), in the registry's time zone."),
    OpenApiParameter("month_to", {"type": "string", "pattern": MONTH},
                     description="To this month (MM/YYYY), included."),
]


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise exceptions.ValidationError({field: [message] for field, message in problems.items()})


class Statistics(KnownQueryParameters, APIView):
    """Public, no key: certificates issued, transferred, retired or exported, counted by month or by
    another dimension, as /statistics/ shows them (never by organization)."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [StatisticsThrottle]
    query_parameters = tuple(parameter.name for parameter in STATISTICS_PARAMETERS)

    @extend_schema(summary="Registry statistics", responses=StatisticsSerializer, auth=[],
                   parameters=STATISTICS_PARAMETERS)
    @reads_may_lag
    def get(self, request: Request) -> Response:
        query = StatisticsQuery.from_params(request.query_params)
        by = request.query_params.get("by", "") or "month"
        problems = query.problems()
        if request.query_params.get("activity", "") and query.activity not in Activity.values:
            problems["activity"] = f"Choose one of: {', '.join(Activity.values)}."
        if by not in GROUPINGS:
            problems["by"] = f"Choose one of: {', '.join(GROUPINGS)}."
        _refuse(problems)
        rows = statistics_rows(query, by=by)
        return Response(StatisticsSerializer({
            "activity": query.activity or Activity.ISSUED, "by": by, "total": statistics_total(query),
            "rows": [{"key": row.key, "label": row.label, "quantity": row.quantity} for row in rows]}).data)


class PublicGeneratorPagination(ApiCursorPagination):
    ordering = "pk"


@extend_schema(summary="Approved generators", auth=[], parameters=DIMENSION_PARAMETERS)
class PublicGeneratorList(KnownQueryParameters, generics.ListAPIView):
    """Public, no key: the approved generators, as /statistics/generators/ lists them (nothing of
    their owners), a page at a time."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [StatisticsThrottle]
    query_parameters = tuple(parameter.name for parameter in DIMENSION_PARAMETERS)
    serializer_class = PublicGeneratorSerializer
    pagination_class = PublicGeneratorPagination
    queryset = Generator.objects.none()

    def get_queryset(self):
        query = GeneratorQuery.from_params(self.request.query_params)
        _refuse(query.problems())
        return generators_public(query).order_by()

    @reads_may_lag
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)
