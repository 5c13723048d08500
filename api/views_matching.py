"""The API's hourly matching: consumption readings from a meter data system, and Match, over the same
validation and services as the Matching pages (matching.consumption, matching.services)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from matching.services import consumption_write, match_write
from matching.statements import statement_digest, statement_verification_url
from matching.values import days_span

from . import serializers_matching as bodies
from .idempotency import idempotent
from .models import ApiKey

# The readings' fields, as a refusal names them (readings[3].start): matching.consumption's labels.
READING_FIELDS = {"Site ID": "site", "Interval start": "start", "Interval end": "end", "Wh": "wh"}


class ConsumptionCreate(APIView):
    """Consumption per interval, recorded all or none (the Matching page's upload, as JSON)."""

    required_scope = ApiKey.Scope.TRADE
    parser_classes = [JSONParser]

    @extend_schema(summary="Record consumption readings", request=bodies.ConsumptionCreateSerializer,
                   responses={200: bodies.ConsumptionCreatedSerializer}, operation_id="consumption_create",
                   description="Readings have no address of their own: the answer is a 200 with their count.")
    @idempotent
    def post(self, request: Request) -> Response:
        body = bodies.ConsumptionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        records = [(index, reading["site"], reading["start"], reading["end"], str(reading["wh"]))
                   for index, reading in enumerate(body.validated_data["readings"])]
        count = consumption_write(organization=request.auth.organization, user=request.user, records=records,
                                  labels=READING_FIELDS)
        return Response({"recorded": count})


class MatchCreate(APIView):
    """Match a site's unmatched consumption, hour by hour: one retirement and one matching statement."""

    required_scope = ApiKey.Scope.RETIRE
    parser_classes = [JSONParser]

    @extend_schema(summary="Match a site's consumption", request=bodies.MatchCreateSerializer,
                   responses={201: bodies.MatchingStatementSerializer}, operation_id="matching_create")
    @idempotent
    def post(self, request: Request) -> Response:
        organization = request.auth.organization
        body = bodies.MatchCreateSerializer(data=request.data, context={"organization": organization})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        statement = match_write(organization=organization, user=request.user, site=data["site"],
                                account=data["account"], span=days_span(data["first_day"], data["last_day"]))
        statement.digest, statement.verification_url = statement_digest(statement), \
            statement_verification_url(statement)
        return Response(bodies.MatchingStatementSerializer(statement).data, status=status.HTTP_201_CREATED,
                        headers={"Location": statement.verification_url})
