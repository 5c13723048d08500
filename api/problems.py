"""Every API error as an RFC 9457 problem (application/problem+json):

    {"type": "urn:rec-registry:problem:refused", "title": "Request refused", "status": 422,
     "detail": "Batch 12 is not held by Prairie Wind Energy.", "instance": "/api/v1/transfers/",
     "errors": [{"field": "lines[0].quantity", "detail": "Enter a whole number."}]}

`errors` names each field that is wrong (dotted, with list indexes; null for the request as a whole,
a header by its name). An unexpected exception is a 500 problem with a generic detail (the exception
logged, never answered). A service's refusal (registry.services.ServiceError) is a 422 with its message,
or a 409 when it is a conflict with the object's current state (ServiceConflict), or a 403 when the
decision is the transfer's other party's (NotYourDecision); its `errors` are the fields the refusal
names (TransferRefused.problems, in the services' words: `lines.0.quantity` is the body's
`lines[0].quantity`; a view's `refusal_fields` renames the others its body spells differently). A
method the operation does not take is a 405; another organization's
object is a 404, like one that does not exist; a throttled request is a 429 with Retry-After; a body
over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413.
"""

import logging
import re
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from registry.services import ServiceConflict, ServiceError
from transfers.services import NotYourDecision
from transfers.values import ALL
from utilities.display import bytes_text

logger = logging.getLogger(__name__)
PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:rec-registry:problem:"

class Problem(exceptions.APIException):
    """An API error with its own problem type, e.g. Problem(422, "idempotency-key-reused", "...")."""

    def __init__(self, status_code: int, code: str, detail: str, *, field: str | None = None,
                 headers: dict | None = None):
        super().__init__(detail, code)
        self.status_code, self.problem_code, self.field, self.headers = status_code, code, field, headers or {}


class Refused(Problem):
    """A service's refusal: a conflict with the object's state (ServiceConflict: decided already,
    changed meanwhile) is a 409; a decision that is the other party's a 403; any other rule a 422.
    `errors`: the fields it concerns, under the request's names (refusal_errors)."""

    def __init__(self, error: ServiceError, refusal_fields: dict[str, str] | None = None):
        if isinstance(error, ServiceConflict):
            super().__init__(status.HTTP_409_CONFLICT, "conflict", str(error))
        elif isinstance(error, NotYourDecision):
            super().__init__(status.HTTP_403_FORBIDDEN, "permission-denied", str(error))
        else:
            super().__init__(status.HTTP_422_UNPROCESSABLE_ENTITY, "refused", str(error))
        self.errors = refusal_errors(getattr(error, "problems", {}), refusal_fields or {})


def refusal_errors(problems: dict[str, str], refusal_fields: dict[str, str]) -> list[dict]:
    """A refusal's problems (field -> message, as the services name fields: `lines.0.quantity`,
    `destination.account`, `retirement.beneficiary`; ALL for the request as a whole, which the
    problem's detail says) as the problem's `errors`, under the request's fields (request_field)."""
    return [{"field": re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", request_field(field, refusal_fields)), "detail": message}
            for field, message in problems.items() if field != ALL]


def request_field(field: str, refusal_fields: dict[str, str]) -> str:
    """A field as the services name it, as the request names it (dotted): `refusal_fields` renames
    a field and those under it (a retirement's {"destination.account": "account", "retirement": ""}:
    its body names the account and the details at its top level)."""
    for service_name, request_name in refusal_fields.items():
        if field == service_name or field.startswith(service_name + "."):
            return ".".join(filter(None, [request_name, field[len(service_name) + 1:]]))
    return field


def invalid(problems: dict[str, str], refusal_fields: dict[str, str] | None = None) -> exceptions.ValidationError:
    """What a body's serializer raises for the problems a service's rule finds before the service
    runs (as a page's form shows them): a 400 naming each field as the request names it."""
    errors: dict = {}
    for field, message in problems.items():
        path = "non_field_errors" if field == ALL else request_field(field, refusal_fields or {})
        *parents, name = [int(step) if step.isdigit() else step for step in path.split(".")]
        node = errors
        for step in parents:
            node = node.setdefault(step, {})
        node.setdefault(name, []).append(message)
    return exceptions.ValidationError(errors)


TITLES = {  # the problem types other than HTTP's own
    "refused": "Request refused",
    "conflict": "Conflict with the current state",
    "invalid": "Invalid request",
    "idempotency-key-missing": "Idempotency-Key header required",
    "idempotency-key-reused": "Idempotency-Key reused with another request",
    "idempotency-key-in-use": "A request with this Idempotency-Key is still being processed",
    "too-large": "Request body too large",
    "internal-error": "Internal server error",
}


def problem_response(*, status_code: int, code: str, detail: str, instance: str, errors: list[dict] | None = None,
                     headers: dict | None = None) -> Response:
    title = TITLES.get(code) or HTTPStatus(status_code).phrase
    body = {"type": TYPE_PREFIX + code, "title": title, "status": status_code, "detail": detail,
            "instance": instance, "errors": errors or []}
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def field_errors(detail, field: str | None = None) -> list[dict]:
    """DRF's nested validation errors as a flat list of {"field": "lines[0].quantity", "detail": ...}."""
    if isinstance(detail, dict):  # a list's errors too (DRF 3.16+), keyed by the item's index
        return [error for name, value in detail.items()
                for error in field_errors(value, f"{field or ''}[{name}]" if isinstance(name, int)
                                          else _join(field, None if name == "non_field_errors" else str(name)))]
    if isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            return [{"field": field, "detail": str(item)} for item in detail]
        return [error for index, item in enumerate(detail) for error in field_errors(item, f"{field or ''}[{index}]")]
    return [{"field": field, "detail": str(detail)}]


def _join(parent: str | None, name: str | None) -> str | None:
    if name is None:
        return parent
    return f"{parent}.{name}" if parent else name


def problem_exception_handler(exc, context):
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: DRF's handling (headers such as Retry-After and
    WWW-Authenticate included), answered as a problem."""
    if isinstance(exc, ServiceError):
        exc = Refused(exc, getattr(context.get("view"), "refusal_fields", None))
    elif isinstance(exc, RequestDataTooBig):  # Django's limit, met when the body is read
        exc = Problem(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "too-large",
                      f"The request's body is larger than the API takes "
                      f"(at most {bytes_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}, an uploaded file aside): "
                      "send fewer lines in each request, or a mass upload file.")
    elif isinstance(exc, SuspiciousOperation):  # too many fields or files, say: Django's own limits
        exc = exceptions.ParseError(f"The request could not be read: {exc}")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    request = context["request"]
    instance = request.path if request is not None else ""
    if response is None:  # not an API error: a fault of ours, told to no one but the log
        logger.exception("Unexpected error in the API at %s", instance, exc_info=exc)
        set_rollback()
        return problem_response(status_code=status.HTTP_500_INTERNAL_SERVER_ERROR, code="internal-error",
                                detail="The registry met an unexpected error; nothing is told of it here, and "
                                       "it was logged. Try again later.", instance=instance)
    if isinstance(exc, exceptions.ValidationError):
        errors = field_errors(exc.detail)
        code, detail = "invalid", "The request is not valid: see errors."
        if len(errors) == 1:
            detail = f"{errors[0]['field'] + ': ' if errors[0]['field'] else ''}{errors[0]['detail']}"
    else:
        code = getattr(exc, "problem_code", None) or _code(exc)
        detail = str(exc.detail)
        field = getattr(exc, "field", None)
        errors = getattr(exc, "errors", None) or ([{"field": field, "detail": detail}] if field else [])
    headers = {name: value for name, value in response.items() if name.lower() != "content-type"}
    headers |= getattr(exc, "headers", {}) or {}
    return problem_response(status_code=response.status_code, code=code, detail=detail, instance=instance,
                            errors=errors, headers=headers)


def _code(exc: exceptions.APIException) -> str:
    codes = {exceptions.NotAuthenticated: "not-authenticated", exceptions.AuthenticationFailed: "not-authenticated",
             exceptions.PermissionDenied: "permission-denied", exceptions.NotFound: "not-found",
             exceptions.Throttled: "throttled", exceptions.MethodNotAllowed: "method-not-allowed",
             exceptions.ParseError: "invalid", exceptions.UnsupportedMediaType: "unsupported-media-type",
             exceptions.NotAcceptable: "not-acceptable"}
    return next((code for kind, code in codes.items() if isinstance(exc, kind)), "error")
