"""Exactly-once POSTs: `@idempotent` on a view's POST handler (an APIView's `post`, a ViewSet's
`create` or action).

Every POST carries an `Idempotency-Key` header (1 to 255 printable ASCII characters, e.g. a UUID; a 400
problem without one). The first request with a key inserts its IdempotentRequest row before it acts
(INSERT ... ON CONFLICT, committed at once on its own: the unique constraint decides which of several
requests acts), then stores its answer (status and JSON body). Within 24 h (IDEMPOTENCY_WINDOW):

- the same key with the same method, path and body answers the stored response again, without
  acting (header `Idempotent-Replayed: true`);
- the same key with another method, path or body is a 422 problem;
- the same key while its first request is still acting is a 409 problem with `Retry-After: 1`
  (the request is not waited for: a client retries and then gets the stored answer).

An answer of 500 or more, or an exception, stores nothing: the row is deleted and the key may be
used again. Authentication, scope and rate limits are checked before the handler runs, so their
refusals are not stored either. The body is hashed as sent (SHA-256); a multipart body by its
fields and each file's contents, so a large upload is not read into memory twice.
"""

import functools
import hashlib
import json
import re

from django.db import connection
from django.utils import timezone
from rest_framework import status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .models import IDEMPOTENCY_WINDOW, IdempotentRequest
from .problems import Problem

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# Printable ASCII, no blank at either end (the schema's pattern for the header, as the server reads it).
KEY_PATTERN = "^[!-~]([ -~]*[!-~])?$"

_CLAIM_SQL = f"""
    INSERT INTO {IdempotentRequest._meta.db_table} AS r
        (organization_id, api_key_id, key, method, path, body_sha256, response_content_type, created_at)
    VALUES (%s, %s, %s, %s, %s, %s, '', %s)
    ON CONFLICT (organization_id, key) DO UPDATE
        SET api_key_id = EXCLUDED.api_key_id, method = EXCLUDED.method, path = EXCLUDED.path,
            body_sha256 = EXCLUDED.body_sha256, response_status = NULL, response_body = NULL,
            response_content_type = '', created_at = EXCLUDED.created_at
        WHERE r.created_at < %s
    RETURNING r.id
"""

_STORE_SQL = f"""
    UPDATE {IdempotentRequest._meta.db_table}
    SET response_status = %s, response_body = %s::jsonb, response_content_type = %s WHERE id = %s
"""


def idempotent(handler):
    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request_key(request)
        api_key = request.auth
        fingerprint = {"method": request.method, "path": request.path, "body_sha256": body_sha256(request)}
        claimed = claim(organization_id=api_key.organization_id, api_key_id=api_key.pk, key=key, **fingerprint)
        if claimed is None:
            return earlier_response(organization_id=api_key.organization_id, key=key, **fingerprint)
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception as exc:  # answered as the API answers it (a problem), or a 500 that frees the key
            try:
                response = view.handle_exception(exc)
            except Exception:
                IdempotentRequest.objects.filter(pk=claimed).delete()
                raise
        if response.status_code >= 500:
            IdempotentRequest.objects.filter(pk=claimed).delete()
        else:
            store(claimed, response)
        return response

    wrapper.idempotent = True  # the schema documents the header (api.schema)
    return wrapper


def request_key(request) -> str:
    key = request.headers.get(HEADER, "")
    if not key:
        raise Problem(status.HTTP_400_BAD_REQUEST, "idempotency-key-missing",
                      f"Send an {HEADER} header with every POST (e.g. a new UUID for each new request, the same "
                      "one when you retry it).", field=HEADER)
    if len(key) > KEY_MAX_LENGTH or not re.fullmatch(KEY_PATTERN, key):
        raise Problem(status.HTTP_400_BAD_REQUEST, "invalid",
                      f"The {HEADER} header must be 1 to {KEY_MAX_LENGTH} printable ASCII characters, with no blank "
                      f"at either end.", field=HEADER)
    return key


def body_sha256(request) -> str:
    digest = hashlib.sha256()
    if request.content_type.startswith("multipart/"):
        fields = sorted((name, request.data.getlist(name)) for name in request.data if name not in request.FILES)
        digest.update(json.dumps(fields, default=str).encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"\0{name}\0{upload.name}\0".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(request.body)
    return digest.hexdigest()


def claim(*, organization_id: int, api_key_id: str, key: str, method: str, path: str,
          body_sha256: str) -> int | None:
    """Insert the key's row, committed at once (autocommit: outside any transaction of the request),
    or replace it if older than the window: its id, or None when another request holds the key."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [organization_id, api_key_id, key, method, path, body_sha256, now,
                                    now - IDEMPOTENCY_WINDOW])
        row = cursor.fetchone()
    return row[0] if row else None


def store(claimed: int, response: Response) -> None:
    """The answer, on the claimed row: its body as the API sends it (dates as text, etc.), rendered
    once into the JSON column. Hand-written, as the claim: the ORM's update, with the body rendered,
    parsed and dumped again, took 513 function calls and 0.45 ms of CPU of every POST, this 128 and
    0.18 ms (measured in process, as bench/api_request.py runs the request)."""
    data = getattr(response, "data", None)
    body = JSONRenderer().render(data).decode() if data is not None else None
    with connection.cursor() as cursor:
        cursor.execute(_STORE_SQL, [response.status_code, body, getattr(response, "content_type", None) or "",
                                    claimed])


def earlier_response(*, organization_id: int, key: str, method: str, path: str, body_sha256: str) -> Response:
    earlier = IdempotentRequest.objects.filter(organization_id=organization_id, key=key).first()
    if earlier is None or earlier.response_status is None:  # still acting (or just failed and freed the key)
        raise Problem(status.HTTP_409_CONFLICT, "idempotency-key-in-use",
                      "A request with this Idempotency-Key is still being processed; retry in a moment to get "
                      "its response.", field=HEADER, headers={"Retry-After": "1"})
    if (earlier.method, earlier.path, earlier.body_sha256) != (method, path, body_sha256):
        raise Problem(status.HTTP_422_UNPROCESSABLE_ENTITY, "idempotency-key-reused",
                      f"This Idempotency-Key was used at {earlier.created_at.isoformat()} for another request "
                      f"({earlier.method} {earlier.path} with another body); use a new key for a new request.",
                      field=HEADER)
    return Response(earlier.response_body, status=earlier.response_status,
                    content_type=earlier.response_content_type or None, headers={"Idempotent-Replayed": "true"})
