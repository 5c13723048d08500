"""The API's interval readings, for meter data systems (issue 33): a granular generator's metered output
per interval, sent as the interval file's rows are uploaded (issuance.services.interval_readings_submit:
the same rules, all or nothing), and read back with their status and certificate."""

from urllib.parse import urlencode

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from issuance.filters import IntervalReadingFilter
from issuance.models import IntervalReading
from issuance.selectors import interval_months, interval_readings_for
from issuance.services import interval_readings_submit
from utilities.display import iso_utc

from . import serializers_intervals as bodies
from .idempotency import idempotent
from .models import ApiKey
from .schema import FilteredListSchema
from .views import KnownQueryParameters

Scope = ApiKey.Scope

class IntervalReadingList(KnownQueryParameters, generics.ListAPIView):
    """A granular generator's interval readings: sent by a meter data system, listed back."""

    scopes = {"get": Scope.READ, "post": Scope.TRADE}
    schema = FilteredListSchema()
    parser_classes = [JSONParser]
    serializer_class = bodies.IntervalReadingSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = IntervalReadingFilter
    queryset = IntervalReading.objects.none()  # the schema's model; requests read get_queryset's

    def get_queryset(self):
        return interval_readings_for(self.request.auth.organization)

    @extend_schema(summary="List interval readings",
                   description="The interval readings of your granular generators (and of those you report "
                               "for), oldest first, a page at a time, by generator, status and an interval range "
                               "(`interval_from`: intervals starting then or later; `interval_to`: ending then or "
                               "earlier; ISO 8601, in UTC when no offset is given).")
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Send interval readings", request=bodies.IntervalReadingsCreateSerializer,
        responses={201: bodies.IntervalReadingsCreatedSerializer},
        description="A granular generator's generation per interval (Generator ID, interval start and end in ISO "
                    "8601 with their offset, Wh), as the Interval Data Template's rows, by the same rules: an "
                    "hour (or the registry's shorter step), within one month of the registry's time zone, over; "
                    "no overlap with another of the generator's intervals, in the body or reported before; at most "
                    "its capacity times the interval. All are recorded, or none: a 422 names each wrong reading "
                    "(`readings[3].interval_end`) and why. Each month's total becomes its report, for registry "
                    "staff to issue, one certificate per interval, in Wh. `Location` lists the readings recorded. "
                    "Scope: trade.")
    @idempotent
    def post(self, request: Request) -> Response:
        body = bodies.IntervalReadingsCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        readings = [(line["generator"], line["interval_start"], line["interval_end"], line["wh"])
                    for line in body.validated_data["readings"]]
        recorded = interval_readings_submit(organization=request.auth.organization, user=request.user,
                                            readings=readings)
        answer = {"readings": len(recorded), "wh": sum(reading.wh for reading in recorded),
                  "months": interval_months(recorded)}
        where = {"interval_from": iso_utc(min(reading.period.start for reading in recorded)),
                 "interval_to": iso_utc(max(reading.period.end for reading in recorded))}
        if len(codes := {code.upper() for code, *_ in readings}) == 1:
            where = {"generator": codes.pop()} | where
        return Response(bodies.IntervalReadingsCreatedSerializer(answer).data, status=status.HTTP_201_CREATED,
                        headers={"Location": f"{request.path}?{urlencode(where)}"})
