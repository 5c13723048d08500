"""The API against its own live OpenAPI schema (Schemathesis): for every operation, generated
requests with a valid key never get a 500, and every answer matches the schema (status code,
content type, headers, body). Bounded: API_SCHEMA_EXAMPLES examples an operation (10 by default).
No operation is excluded."""

import datetime
import os
import uuid
from collections import defaultdict

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from api.idempotency import KEY_MAX_LENGTH
from api.throttling import ApiKeyThrottle
from transfers.services import TransferLine

from .conftest import retire
from .factories import api_key_for

EXAMPLES = int(os.environ.get("API_SCHEMA_EXAMPLES", "10"))


# The live schema, as a client downloads it from the application (read once, at collection: making
# it reads no table). schemathesis.pytest.from_fixture would read it per test, but its lazy loader
# does not run on pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture
def application_in_this_test(db, settings, monkeypatch):
    """The application called in this thread, on the test's connection and transaction: it must not
    close the connection after each request (Django's test client does not either). Generated
    requests come fast: no rate limit is reached (429 is in the schema, but it would hide the rest)."""
    settings.VERIFY_REQUESTS_PER_MINUTE = 1_000_000
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "1000000/minute"})
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(application_in_this_test, org, trader, holdings, second_account, retirement_account, tracking_system):
    """A retire key (every scope) of an organization with batches in two accounts and a retirement."""
    retire(organization=org, user=trader, account=retirement_account,
           lines=[TransferLine(holdings["wind"].pk, 10)])
    _, key = api_key_for(trader, org, "retire", expiry_date=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))
    return key


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_matches_its_schema(case, api_key):
    excluded = []
    if case.operation.path in ORGANIZATION_DATA_FILTERS:
        # Not excluded: the operation, nor any check on its answers. Only "a request the schema allows is
        # accepted" is not asked of it: its `account` and `eligibility` filters take one of the
        # organization's accounts' public ids and the registry's eligibilities, which no static schema lists; any
        # other value is a 400 problem naming the filter (tests/test_api_reads.py).
        excluded = [schemathesis.checks.positive_data_acceptance]
    headers = {"Authorization": f"Api-Key {api_key}"}
    if 0 < len((case.headers or {}).get("Idempotency-Key", "")) <= KEY_MAX_LENGTH:
        # Schemathesis sends the same few values again and again; one key with another body is a 422
        # by design (tests/test_api_foundation.py): each new request a new key.
        headers["Idempotency-Key"] = str(uuid.uuid4())
    response = case.call_and_validate(headers=headers, excluded_checks=excluded)
    if response.request.headers.get("Authorization") == f"Api-Key {api_key}":  # not a case sent without it
        assert response.status_code != 401, response.text  # the key works: the answers are the operation's own


ORGANIZATION_DATA_FILTERS = {"/api/v1/batches/", "/api/v1/batches.csv",
                             # The same, for what a request names: the organization's batches, accounts and
                             # transfer ids, the registry's retirement options, the rows of a CSV file
                             # (tests/test_api_transfers.py, test_api_retirements.py, test_api_mass_uploads.py).
                             "/api/v1/transfers/", "/api/v1/transfers/{id}/accept/", "/api/v1/retirements/",
                             "/api/v1/mass-uploads/"}


def test_each_resource_s_path_id_has_one_type():
    """A resource is named in every path by one id of one type: the public id where it has one (an
    account's ACT id, a retirement's reference), else its number (a transfer's, as the pages show it)."""
    document = schema.raw_schema
    types = defaultdict(set)
    for path, operations in document["paths"].items():
        resource = path.removeprefix("/api/v1/").split("/")[0]
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path":
                    types[resource].add((parameter["name"], parameter["schema"]["type"]))
    assert types == {"accounts": {("id", "string")}, "batches": {("id", "integer")},
                     "mass-uploads": {("id", "integer")}, "retirements": {("reference", "string")},
                     "transfers": {("id", "integer")}, "verify": {("reference", "string")}}
