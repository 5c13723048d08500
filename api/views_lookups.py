"""The values a request may name, listed by the same selectors the pages offer them from: the
retirement options of the wizard's retirement step, the tracking systems of its export destination,
and the organizations its destination step offers as one types. A client learns them here rather
than from a 400."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import organizations_able_to_receive
from retirements.selectors import retirement_options_offered
from transfers.forms import ORGANIZATION_SEARCH_LIMIT, ORGANIZATION_SEARCH_MIN_LENGTH, organizations_offered
from transfers.selectors import tracking_systems_to_export_to

from .models import ApiKey
from .serializers import (
    RecipientSearchSerializer,
    RecipientSerializer,
    RetirementOptionSerializer,
    TrackingSystemSerializer,
)
from .views import KnownQueryParameters


class RetirementOptionList(KnownQueryParameters, APIView):
    required_scope = ApiKey.Scope.READ

    @extend_schema(
        summary="List retirement options", responses=RetirementOptionSerializer(many=True),
        operation_id="retirement_options_list",
        description="What a retirement can count toward, as the retirement step of the transfer page offers it "
                    "(registry staff keep the list): the name a retirement's `option` takes, and the details each "
                    "option needs. Scope: read.",
        # One item of the list each (the schema lists it).
        examples=[OpenApiExample("A state RPS", response_only=True, value={
                      "name": "Minnesota RES", "type": "state_rps", "reason": "compliance", "state": "MN",
                      "required_details": ["compliance_period"]}),
                  OpenApiExample("A voluntary claim", response_only=True, value={
                      "name": "Green-e Energy", "type": "green_e", "reason": "voluntary", "state": "",
                      "required_details": ["beneficiary"]})])
    def get(self, request: Request) -> Response:
        return Response(RetirementOptionSerializer(retirement_options_offered(), many=True).data)


class TrackingSystemList(KnownQueryParameters, APIView):
    required_scope = ApiKey.Scope.READ

    @extend_schema(
        summary="List tracking systems", responses=TrackingSystemSerializer(many=True),
        operation_id="tracking_systems_list",
        description="The other registries certificates can be exported to, as the export destination of the "
                    "transfer page offers them: the code an export's `tracking_system` takes. Scope: read.",
        examples=[OpenApiExample("A tracking system", response_only=True, value={
            "code": "WREGIS", "name": "Western Renewable Energy Generation Information System"})])
    def get(self, request: Request) -> Response:
        return Response(TrackingSystemSerializer(tracking_systems_to_export_to(), many=True).data)


SEARCH_PARAMETER = OpenApiParameter(
    "search", str, required=True,
    description=f"A part of the organization's registered name, or of its MM id (MM00412, 00412, MM004). Fewer "
                f"than {ORGANIZATION_SEARCH_MIN_LENGTH} characters (blanks aside) find nothing, as on the transfer "
                f"page.",
    examples=[OpenApiExample("By name", value="lakeshore"), OpenApiExample("By MM id", value="MM00412")])


class RecipientList(KnownQueryParameters, APIView):
    required_scope = ApiKey.Scope.READ
    query_parameters = ("search",)

    @extend_schema(
        summary="Search the organizations a transfer can go to", parameters=[SEARCH_PARAMETER],
        responses=RecipientSerializer(many=True), operation_id="organizations_list",
        description=f"The organizations the destination step of the transfer page offers for the same text, "
                    f"by name: at most {ORGANIZATION_SEARCH_LIMIT} (narrow the search for others). Active "
                    f"organizations other than yours; `can_receive` says whether one can take a transfer now. "
                    f"Scope: read.",
        examples=[OpenApiExample("An organization", response_only=True, value={
            "id": "MM00002", "name": "Lakeshore Power Cooperative", "can_receive": True})])
    def get(self, request: Request) -> Response:
        query = RecipientSearchSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = organizations_offered(request.auth.organization, query.validated_data["search"])
        able = organizations_able_to_receive(organization.pk for organization in found)
        for organization in found:
            organization.can_receive = organization.pk in able
        return Response(RecipientSerializer(found, many=True).data)
