"""Request ids and structured logs: every log line of a request carries its id and its user."""

import contextvars
import json
import logging
import re
import uuid

request_id_var = contextvars.ContextVar("request_id", default="-")
user_var = contextvars.ContextVar("user", default="-")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy (or makes one), and echoes it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request_token = request_id_var.set(request.request_id)
        user_token = user_var.set("-")
        try:
            response = self.get_response(request)
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                user_var.set(str(user.pk))
            response["X-Request-ID"] = request.request_id
            return response
        finally:
            request_id_var.reset(request_token)
            user_var.reset(user_token)


class RequestContextFilter(logging.Filter):
    def filter(self, record):
        # Django logs 4xx/5xx responses after the middleware returned; those records carry the request.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        user = user_var.get()
        if request is not None and getattr(request, "user", None) is not None and request.user.is_authenticated:
            user = str(request.user.pk)
        record.user = user
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user": getattr(record, "user", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
