"""The OpenAPI schema's shared parts: every operation documents its problem responses, and a POST
made idempotent (api.idempotency) its Idempotency-Key header; the webhooks the registry sends, with
their bodies (OpenAPI 3.1's top-level `webhooks`: SPECTACULAR_SETTINGS["WEBHOOKS"])."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, OpenApiWebhook
from rest_framework import serializers

from webhooks.models import EventType
from webhooks.payloads import event_schema
from webhooks.signing import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

from .idempotency import KEY_MAX_LENGTH
from .problems import PROBLEM_CONTENT_TYPE


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="The field, query parameter or header that is wrong "
                                                             "(e.g. `lines[0].quantity`); null for the whole request.")
    detail = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem."""

    type = serializers.CharField(help_text="urn:rec-registry:problem:<code>, e.g. refused, invalid, not-found.")
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    instance = serializers.CharField(help_text="The request's path.")
    errors = ProblemFieldErrorSerializer(many=True)

    class Meta:
        ref_name = "Problem"


PROBLEMS = {
    "400": "The request is not valid (a query parameter, the body or a header): see `errors`.",
    "401": "No API key, or a key that is not valid, revoked, expired, or whose creator lost the role for it.",
    "403": "The key's scope does not allow this request (or a transfer's decision is its other party's: the "
           "detail says whose).",
    "404": "No such object in the key's organization.",
    "429": "Too many requests with this key: wait `Retry-After` seconds.",
}
POST_PROBLEMS = {
    "409": "In conflict with the object's current state (decided already, or changed meanwhile), or an earlier "
           "request with this Idempotency-Key is still being processed.",
    "413": "The body is larger than the API takes (an uploaded file aside).",
    "422": "Refused by a rule (the problem's detail says which), or the Idempotency-Key was used for another "
           "request.",
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        problems = dict(PROBLEMS)
        if not self.get_auth():  # a public operation
            problems = {code: text for code, text in problems.items() if code not in ("401", "403")}
            problems["429"] = "Too many requests from this address: wait `Retry-After` seconds."
        if self.method == "POST":
            problems |= POST_PROBLEMS
        for code, description in problems.items():
            responses.setdefault(code, self._get_response_for_code(
                OpenApiResponse(ProblemSerializer, description=description), code, [PROBLEM_CONTENT_TYPE]))
        return responses

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST" and getattr(self._handler(), "idempotent", False):
            parameters = [*parameters, OpenApiParameter(
                "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH},
                OpenApiParameter.HEADER, required=True,
                description="A key of your own for this request (e.g. a UUID), 1 to 255 characters; the same key "
                            "when you retry it. Within 24 hours a retry with the same body gets the first response "
                            "without acting again.")]
        return parameters

    def _handler(self):
        name = getattr(self.view, "action", None) or self.method.lower()
        return getattr(self.view, name, None)


def _webhook_operation(event_type: EventType) -> dict:
    """What the registry POSTs to an endpoint that chose `event_type`, and how it takes the answers."""
    name = event_type.value.replace(".", "_")
    header = {"in": "header", "required": True}
    return {"post": {
        "operationId": f"webhook_{name}",
        "summary": event_type.label,
        "description": f"Sent to each endpoint that chose `{event_type.value}`, signed as Standard Webhooks "
                       "specifies (see the description at the top).",
        "security": [],
        "parameters": [
            {**header, "name": ID_HEADER, "schema": {"type": "string", "format": "uuid"},
             "description": "The event's id (the body's `id`), the same on every attempt."},
            {**header, "name": TIMESTAMP_HEADER, "schema": {"type": "string", "pattern": "^[0-9]+$"},
             "description": "When this attempt was made, in Unix seconds."},
            {**header, "name": SIGNATURE_HEADER, "schema": {"type": "string"},
             "description": "`v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<raw body>`, one for "
                            "each secret that signs (space-separated)."},
        ],
        "requestBody": {"required": True, "content": {"application/json": {"schema": event_schema(event_type)}}},
        "responses": {
            "2XX": {"description": "Received; the registry does not send it again."},
            "410": {"description": "Gone: the registry disables the endpoint and tells its managers."},
            "429": {"description": "Too many: the endpoint gets nothing before `Retry-After` (at most an hour)."},
            "default": {"description": "Any other answer, a redirect or none in time: tried again later."},
        },
    }}


# Import path in SPECTACULAR_SETTINGS["WEBHOOKS"] (a string naming this list: DRF's settings import it).
WEBHOOKS = [OpenApiWebhook(name=event_type.value, decorator=_webhook_operation(event_type))
            for event_type in EventType]
