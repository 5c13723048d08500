"""Exactly-once POSTs: `@idempotent` on a view's POST handler (an APIView's `post`, a ViewSet's
`create` or action).

Every POST carries an `Idempotency-Key` header (1 to 255 printable ASCII characters, no blank at
either end, e.g. a UUID; a 400 problem without one). Within 24 h (IDEMPOTENCY_WINDOW) of its first use:

- the same key with the same method, path and body answers the stored response again, without
  acting (header `Idempotent-Replayed: true`);
- the same key with another method, path or body is a 422 problem;
- the same key while its first request is still acting is a 409 problem with `Retry-After: 1`
  (the request is not waited for: a client retries and then gets the stored answer).

How (the answer commits with the effect, as Stripe's keys do):

1. The claim: the key's IdempotentRequest row is inserted if missing (INSERT ... ON CONFLICT DO
   NOTHING), committed at once on its own, so that every request with the key then meets that row.
2. One transaction (durable) holds that row's lock (SELECT ... FOR UPDATE SKIP LOCKED) from start to
   end: it runs the handler, whose service joins this transaction, and writes the answer (status,
   JSON body, and a 201's Location) on the row; the effect and its answer commit together, or neither does.
3. Whoever meets the row locked answers 409: a request with the key is acting. Whoever gets the lock
   and finds an answer of the window replays it (or refuses another request, 422). Whoever gets the
   lock and finds no answer (or one older than the window) acts, and its answer replaces the row's:
   an earlier request that left no answer committed nothing (its process died, or it failed), and its
   lock went with its connection. So no lease, no timer: a claim left by a dead process is free at
   the next retry, and a committed effect always has its answer.

The handler runs inside that transaction, so it calls services that join their caller's transaction:
transfer_write and retirement_write (the joinable forms of transfer_create and retirement_create),
and transfer_accept, transfer_reject, transfer_withdraw and mass_upload_release (plain
transaction.atomic for this reason). A durable service called there fails at once (Django refuses to
nest a durable block), so this cannot go unnoticed. The handler runs in a savepoint: a refusal keeps
its answer (a 4xx is stored, and replayed) and nothing else.

An answer of 500 or more, or an exception, stores nothing: the transaction is rolled back and the key
may be used again (with any request). Authentication, scope and rate limits are checked before the
handler runs, so their refusals are not stored either. The body is hashed as sent (SHA-256); a
multipart body by its fields and each file's contents, so a large upload is not read into memory twice.
"""

import functools
import hashlib
import json
import re

from django.db import connection, transaction
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from utilities.display import iso_utc

from .models import IDEMPOTENCY_WINDOW, IdempotentRequest
from .problems import Problem

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
# Printable ASCII, no blank at either end (the schema's pattern for the header, as the server reads it).
KEY_PATTERN = "^[!-~]([ -~]*[!-~])?$"
PATH_MAX_LENGTH = IdempotentRequest._meta.get_field("path").max_length

_CLAIM_SQL = f"""
    INSERT INTO {IdempotentRequest._meta.db_table}
        (organization_id, api_key_id, key, method, path, body_sha256, response_content_type, response_location,
         created_at)
    VALUES (%s, %s, %s, %s, %s, %s, '', '', %s)
    ON CONFLICT (organization_id, key) DO NOTHING
"""

_STORE_SQL = f"""
    UPDATE {IdempotentRequest._meta.db_table}
    SET api_key_id = %s, method = %s, path = %s, body_sha256 = %s, created_at = %s,
        response_status = %s, response_body = %s::jsonb, response_content_type = %s, response_location = %s
    WHERE id = %s
"""


class _Failed(Exception):
    """A 5xx answer: it leaves the transaction by rolling it back, and is answered all the same."""

    def __init__(self, response: Response):
        self.response = response


def idempotent(handler):
    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request_key(request)
        if len(request.path) > PATH_MAX_LENGTH:  # no operation's path is this long: its id names nothing
            raise NotFound("No such object.")
        api_key = request.auth
        fingerprint = {"method": request.method, "path": request.path, "body_sha256": body_sha256(request)}
        claim(organization_id=api_key.organization_id, api_key_id=api_key.pk, key=key, **fingerprint)
        try:
            with transaction.atomic(durable=True):
                held = hold(organization_id=api_key.organization_id, key=key)
                if held.response_status is not None and held.created_at >= timezone.now() - IDEMPOTENCY_WINDOW:
                    return earlier_response(held, **fingerprint)
                try:
                    with transaction.atomic():  # a refusal leaves nothing but its answer
                        response = handler(view, request, *args, **kwargs)
                except Exception as exc:  # answered as the API answers it (a problem), or a 500
                    response = view.handle_exception(exc)
                if response.status_code >= 500:
                    raise _Failed(response)
                store(held.pk, response, api_key_id=api_key.pk, **fingerprint)
        except _Failed as failed:
            return failed.response
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
          body_sha256: str) -> None:
    """The key's row, inserted if missing and committed at once (autocommit: outside any transaction
    of the request), so that every request with the key meets this one row. DO NOTHING, not DO
    UPDATE: an update would wait for the lock of a request acting with the key, not answer 409.
    Hand-written: bench/sql_statements.py measured 105 us of CPU and 145 Python calls a claim,
    against 265 us and 712 through bulk_create(ignore_conflicts=True) (2026-12-06, load average 9)."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [organization_id, api_key_id, key, method, path, body_sha256, timezone.now()])


def hold(*, organization_id: int, key: str) -> IdempotentRequest:
    """The key's row, locked until this transaction ends; a 409 problem when another request holds
    it (it is acting)."""
    held = (IdempotentRequest.objects.select_for_update(skip_locked=True)
            .filter(organization_id=organization_id, key=key).first())
    if held is None:
        raise Problem(status.HTTP_409_CONFLICT, "idempotency-key-in-use",
                      "A request with this Idempotency-Key is still being processed; retry in a moment to get "
                      "its response.", field=HEADER, headers={"Retry-After": "1"})
    return held


def store(held: int, response: Response, *, api_key_id: str, method: str, path: str, body_sha256: str) -> None:
    """The answer, on the held row, with the request it answers and its time (an earlier request
    that left no answer, or one older than the window, may have had another): its body as the API
    sends it (dates as text, etc.), rendered once into the JSON column. Hand-written: the ORM's
    update, with the body rendered, parsed and dumped again, took 513 function calls and 0.45 ms of
    CPU of every POST, this 128 and 0.18 ms (measured in process, as bench/api_request.py runs the
    request)."""
    data = getattr(response, "data", None)
    body = JSONRenderer().render(data).decode() if data is not None else None
    with connection.cursor() as cursor:
        cursor.execute(_STORE_SQL, [api_key_id, method, path, body_sha256, timezone.now(), response.status_code,
                                    body, getattr(response, "content_type", None) or "",
                                    response.get("Location", ""), held])


def earlier_response(earlier: IdempotentRequest, *, method: str, path: str, body_sha256: str) -> Response:
    """The stored answer again, if this is the request it answered; else a 422 problem."""
    if (earlier.method, earlier.path, earlier.body_sha256) != (method, path, body_sha256):
        raise Problem(status.HTTP_422_UNPROCESSABLE_ENTITY, "idempotency-key-reused",
                      f"This Idempotency-Key was used at {iso_utc(earlier.created_at)} for another request "
                      f"({earlier.method} {earlier.path} with another body); use a new key for a new request.",
                      field=HEADER)
    headers = {"Idempotent-Replayed": "true"}
    if earlier.response_location:
        headers["Location"] = earlier.response_location
    return Response(earlier.response_body, status=earlier.response_status,
                    content_type=earlier.response_content_type or None, headers=headers)
