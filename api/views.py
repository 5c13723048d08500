"""The API's read endpoints: each a thin view over the selectors the pages call, scoped to the
key's organization (request.auth.organization)."""

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import ApiKey
from .serializers import OrganizationSerializer


class OrganizationView(APIView):
    """The key's organization."""

    required_scope = ApiKey.Scope.READ
    serializer_class = OrganizationSerializer

    def get(self, request: Request) -> Response:
        return Response(OrganizationSerializer(request.auth.organization).data)
