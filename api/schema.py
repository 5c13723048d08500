"""The OpenAPI schema's shared parts: every operation documents its problem responses, each with an
example, and a POST made idempotent (api.idempotency) its Idempotency-Key header; a public operation
says it needs no key (`security: []`); operation ids and tags are names a client generator can use
(no dots: `batches.csv` is `batches_csv_retrieve`, tagged `batches`); the webhooks the registry
sends, with their bodies (OpenAPI 3.1's top-level `webhooks`: SPECTACULAR_SETTINGS["WEBHOOKS"])."""

import re
from http import HTTPStatus

from django.conf import settings
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, OpenApiWebhook
from rest_framework import serializers

from utilities.display import bytes_text
from webhooks.models import EventType
from webhooks.payloads import event_schema
from webhooks.signing import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER

from . import examples  # (importing it attaches each body's example to its serializer)
from .idempotency import HEADER, KEY_MAX_LENGTH, KEY_PATTERN
from .problems import PROBLEM_CONTENT_TYPE, TITLES, TYPE_PREFIX


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
    "406": "The `Accept` header asks for a format the API does not answer in (it answers JSON).",
    "429": "Too many requests with this key: wait `Retry-After` seconds.",
}
POST_PROBLEMS = {
    "409": "In conflict with the object's current state (decided already, or changed meanwhile), or an earlier "
           "request with this Idempotency-Key is still being processed.",
    "415": "The body's `Content-Type` is not one the operation takes.",
    "413": f"The body is larger than the API takes (at most {bytes_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, "
           f"an uploaded file aside).",
    "422": "Refused by a rule (the problem's detail says which), or the Idempotency-Key was used for another "
           "request.",
}


# An example of each problem (its code and detail), as the API words it.
PROBLEM_EXAMPLES = {
    "400": ("invalid", "fule", "This operation takes no such query parameter."),
    "401": ("not-authenticated", None, "This API key is not valid."),
    "403": ("permission-denied", None, "This API key's scope is read; this request needs a key with the trade "
                                       "scope."),
    "404": ("not-found", None, "No such object."),
    "406": ("not-acceptable", None, "Could not satisfy the request Accept header."),
    "415": ("unsupported-media-type", None, 'Unsupported media type "text/plain" in request.'),
    "409": ("conflict", None, "This transfer was already withdrawn."),
    "413": ("too-large", None, f"The request's body is larger than the API takes (at most "
                               f"{bytes_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, an uploaded file aside): send "
                               f"fewer lines in each request, or a mass upload file."),
    "422": ("refused", None, "Batch 812 is not held by Prairie Wind Energy."),
    "429": ("throttled", None, "Request was throttled. Expected available in 12 seconds."),
}
POST_400_EXAMPLE = ("idempotency-key-missing", HEADER, f"Send an {HEADER} header with every POST (e.g. a new UUID "
                                                       "for each new request, the same one when you retry it).")


def example_path(path: str) -> str:
    """`path` with an example in each parameter: an account's public id, a retirement's reference, a number."""
    def value(match) -> str:
        if match[1] == "reference":
            return "NX53XXWDKA7CZ0JJC8AD"
        return "ACT-00031" if path.startswith("/api/v1/accounts/") else "1042"
    return re.sub(r"\{(\w+)\}", value, path)


def problem_example(status_code: str, path: str, code: str, field: str | None, detail: str) -> OpenApiExample:
    """A problem as api.problems answers it: one wrong field is named in `errors`, and an invalid
    request's detail names it too."""
    title = TITLES.get(code) or HTTPStatus(int(status_code)).phrase
    return OpenApiExample(title, value={
        "type": TYPE_PREFIX + code, "title": title, "status": int(status_code),
        "detail": f"{field}: {detail}" if field and code == "invalid" else detail, "instance": example_path(path),
        "errors": [{"field": field, "detail": detail}] if field else []})


RATE_LIMIT_HEADERS = {  # api.throttling.RateLimit.headers
    "RateLimit-Limit": {"schema": {"type": "integer", "minimum": 0}, "example": 1200,
                        "description": "Requests a window (a minute) that the key, or for the public record the "
                                       "address, may make."},
    "RateLimit-Remaining": {"schema": {"type": "integer", "minimum": 0}, "example": 1187,
                            "description": "Requests left in this window."},
    "RateLimit-Reset": {"schema": {"type": "integer", "minimum": 0}, "example": 42,
                        "description": "Seconds until this window ends."},
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        public = not self.get_auth()
        problems = dict(PROBLEMS)
        if public:
            problems = {code: text for code, text in problems.items() if code not in ("401", "403")}
            problems["429"] = "Too many requests from this address: wait `Retry-After` seconds."
        if self.method == "POST":
            problems |= POST_PROBLEMS
        for code, description in problems.items():
            code_field_detail = PROBLEM_EXAMPLES.get(code, ("error", None, HTTPStatus(int(code)).phrase + "."))
            if code == "400" and self.method == "POST" and getattr(self._handler(), "idempotent", False):
                code_field_detail = POST_400_EXAMPLE
            example = problem_example(code, self.path, *code_field_detail)
            responses.setdefault(code, self._get_response_for_code(
                OpenApiResponse(ProblemSerializer, description=description, examples=[example]), code,
                [PROBLEM_CONTENT_TYPE]))
        return responses

    def _get_response_headers_for_code(self, status_code, direction="response"):
        """The headers an answer carries: where the client stands against its rate limit (on every
        answer counted, so not on a 401: api.throttling), when to try again after a 429, and a 201's
        new object."""
        headers = super()._get_response_headers_for_code(status_code, direction)
        if self.view.get_throttles():
            headers |= RATE_LIMIT_HEADERS
        if status_code == "429":
            headers["Retry-After"] = {"schema": {"type": "integer", "minimum": 0}, "required": True,
                                      "description": "Seconds until a request is taken again."}
        if status_code == "201":
            headers["Location"] = {"schema": {"type": "string", "format": "uri-reference"}, "required": True,
                                   "description": "The new object's address (a retirement's: its statement)."}
        return headers

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is not None and not self.get_auth():
            operation["security"] = []  # public: no key (an absent list would mean "as the document's")
        return operation

    def get_operation_id(self) -> str:
        return re.sub(r"[^A-Za-z0-9_]", "_", super().get_operation_id())

    def get_tags(self) -> list[str]:
        return [tag.split(".")[0] for tag in super().get_tags()]  # batches.csv is one of the batches'

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method == "POST" and getattr(self._handler(), "idempotent", False):
            parameters = [*parameters, OpenApiParameter(
                "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH,
                                    "pattern": KEY_PATTERN},
                OpenApiParameter.HEADER, required=True,
                description="A key of your own for this request (e.g. a UUID), 1 to 255 printable ASCII characters "
                            "with no blank at either end; the same key when you retry it. Within 24 hours a retry "
                            "with the same body gets the first response without acting again.")]
        return parameters

    def get_filter_backends(self) -> list:
        """A list's filters, and a download's (batches.csv, a GET of no one object, filters as the list does)."""
        if self.method == "GET" and getattr(self.view, "filterset_class", None) and "{" not in self.path:
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()

    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.schema_path = self.path  # its examples link to this list's pages
        return paginator

    def _handler(self):
        name = getattr(self.view, "action", None) or self.method.lower()
        return getattr(self.view, name, None)


TAG_DESCRIPTIONS = {
    "organization": "The key's organization.",
    "accounts": "The organization's holding accounts and their balances.",
    "batches": "The certificates the organization holds, batch by batch, as the dashboard lists them.",
    "transfers": "Transfers the organization sent or was sent: create, accept, reject, withdraw.",
    "retirements": "Certificates retired for good, toward what and for whom, and their statements.",
    "interval-readings": "Granular (hourly) generators' generation per interval, from meter data systems: the "
                         "Interval Data Template's rows and rules.",
    "energytag": "The EnergyTag GC Registry API's core operations (query, transfer, cancel, claim), with the "
                 "EnergyTag API Specification's names, over the same services: GC Bundles are the batches of "
                 "granular (hourly) certificates.",
    "mass-uploads": "CSV files of transfers or retirements, checked and applied by a worker, all or nothing.",
    "verify": "Public, no key: a retirement's verification record.",
    "public": "Public, no key: the registry's statistics (certificates issued, transferred, retired and exported, "
              "never by organization) and its approved generators.",
    "organizations": "Organizations a transfer may go to (a destination's `organization`).",
    "retirement-options": "What a retirement may count toward (a retirement's `option`), and the details each needs.",
    "tracking-systems": "Registries certificates may be exported to (an export's `tracking_system`).",
    "invoices": "The registry's invoices to the organization, their lines and what is left to pay (a manager's "
                "key, or its billing contact's).",
    "charges": "What the registry charged the organization, invoiced or still to go on the next invoice (a "
               "manager's key, or its billing contact's).",
}


# A day as the API reads one (DRF's DateField, a filter's DateFilter): ISO 8601's YYYY-MM-DD only.
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Text the API reads: DRF's and Django's text fields refuse the null character (PostgreSQL cannot store it).
TEXT_PATTERN = "^[^\\x00]*$"


def postprocess_schema(result, generator, request, public):
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: the document's tags, each operation's tag
    listed once, in TAG_DESCRIPTIONS' order, with what it groups (a tag missing there has no
    description: the schema's lint says so); and every day's format as a pattern too: in OpenAPI
    3.1 (JSON Schema 2020-12) `format` only annotates, so a validator or a generator that does not
    assert it would take "" or "soon" for a day, which the server refuses (a filter sent empty
    filters nothing: its pattern also takes ""); and text a request sends has no null character."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        _days_with_pattern(component, DATE_PATTERN)
        if name.endswith("Request"):  # what a request sends (COMPONENT_SPLIT_REQUEST)
            _text_with_pattern(component)
    for operations in result["paths"].values():
        for operation in operations.values():
            for status_code, response in operation["responses"].items():
                if not response.get("description"):  # an answer that says nothing more than its status
                    response["description"] = HTTPStatus(int(status_code)).phrase
            for parameter in operation.get("parameters", []):
                empty = parameter["in"] == "query"
                _days_with_pattern(parameter.get("schema", {}), f"^$|{DATE_PATTERN}" if empty else DATE_PATTERN)
                _text_with_pattern(parameter.get("schema", {}))
    used = {tag for operations in result["paths"].values() for operation in operations.values()
            for tag in operation.get("tags", [])}
    order = list(TAG_DESCRIPTIONS)
    result["tags"] = [{"name": tag} | ({"description": TAG_DESCRIPTIONS[tag]} if tag in TAG_DESCRIPTIONS else {})
                      for tag in sorted(used, key=lambda tag: (order.index(tag) if tag in order else len(order), tag))]
    return result


def _days_with_pattern(schema, pattern: str) -> None:
    if isinstance(schema, dict):
        if schema.get("format") == "date" and "pattern" not in schema:
            schema["pattern"] = pattern
        for value in schema.values():
            _days_with_pattern(value, pattern)
    elif isinstance(schema, list):
        for value in schema:
            _days_with_pattern(value, pattern)


def _text_with_pattern(schema) -> None:
    if isinstance(schema, dict):
        types = schema.get("type")
        if (types == "string" or (isinstance(types, list) and "string" in types)) and not (
                {"pattern", "format", "enum", "contentMediaType"} & schema.keys()):
            schema["pattern"] = TEXT_PATTERN
        for value in schema.values():
            _text_with_pattern(value)
    elif isinstance(schema, list):
        for value in schema:
            _text_with_pattern(value)


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
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": event_schema(event_type),
            "examples": {name: {"value": examples.webhook_example(event_type.value)}}}}},
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


class FilteredListSchema(ApiAutoSchema):
    """A list whose filters are a tab's (the Active, Transactions and Retired tabs'): each may be sent
    empty, which filters nothing (as the tab's form sends an empty field)."""

    def _get_filter_parameters(self):
        return [parameter | {"allowEmptyValue": True} for parameter in super()._get_filter_parameters()]
