"""The API against its own live OpenAPI schema (Schemathesis): for every operation, generated
requests with a valid key never get a 500, every answer matches the schema (status code, content
type, headers, body), a request the schema allows is accepted and one it forbids is refused (the
"valid request accepted" and "invalid request refused" checks, on for every operation). Bounded:
API_SCHEMA_EXAMPLES examples an operation (10 by default). No operation and no check is excluded.

What no static schema can list, the values that name the organization's own data (its accounts,
batches, transfers, uploads, its retirement's reference, a page's cursor) and the registry's
(retirement options, eligibilities, tracking systems, organizations to send to), is fed into each
request the schema allows by `feed` (a before_call hook) from what the `registry` fixture made: a
request the schema allows, with values that exist, must be accepted."""

import copy
import datetime
import itertools
import json
import os
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.pagination import Cursor
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import ComponentInfo
from schemathesis.transport.serialization import Binary, contains_binary  # a file's bytes, as Schemathesis sends one

from accounts.models import Account
from api.idempotency import KEY_MAX_LENGTH, KEY_PATTERN
from api.pagination import ApiCursorPagination
from api.throttling import ApiKeyThrottle
from billing.models import Invoice
from certificates.filters import eligibility_choices
from certificates.models import CertificateBatch, Generator
from certificates.periods import ProductionPeriod
from certificates.services import certificate_issue
from mass_uploads.models import MassTransferUpload
from mass_uploads.services import mass_upload_create
from matching.models import ConsumptionReading, ConsumptionSite
from programs.filters import ProgramBatchFilter
from programs.models import Program
from registry.models import Organization, TrackingSystem
from retirements.models import RetirementOption
from transfers.models import Transfer
from transfers.services import TransferLine

from .billing import january_invoice
from .conftest import retire, send
from .factories import GeneratorFactory, RetirementOptionFactory, UserFactory, api_key_for

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
    settings.VERIFY_REQUESTS_PER_MINUTE = settings.STATISTICS_REQUESTS_PER_MINUTE = 1_000_000
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "1000000/minute"})
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@dataclass
class Registry:
    """What a request may name: the key's organization's own objects and the registry's."""

    organization: Organization
    trader: object
    recipient: Organization
    recipient_trader: object
    account: Account  # holds the batches a transfer or retirement takes
    other_account: Account  # an internal transfer's destination
    retirement_account: Account
    option: RetirementOption
    tracking_system: TrackingSystem
    reference: str  # a retirement's
    upload: MassTransferUpload
    issue: object  # conftest's issue(quantity): a new batch in `account`
    granular: Generator  # a granular generator of 50 MW, for interval readings
    hours_read: int = 0  # the hours of it sent so far (unread_hour)
    hours_issued: int = 0  # the hours of it issued so far (gc_bundle)

    def active_batches(self) -> list[CertificateBatch]:
        """The batches `account` holds active: a new one when every one has gone (a request may take all)."""
        held = CertificateBatch.objects.filter(account=self.account, status=CertificateBatch.Status.ACTIVE)
        return list(held.order_by("pk")) or [self.issue(1000)]


REGISTRY: list[Registry] = []  # the test's, for `feed`


@pytest.fixture
def registry(application_in_this_test, mass_media, issue, org, trader, holdings, account, second_account,
             retirement_account, tracking_system, counterparty, counterparty_trader, foreign_batch):
    """An organization with batches in two accounts, a retirement, an upload, a transfer sent and one
    received; another organization to send to; a retirement option and a tracking system."""
    option = RetirementOptionFactory()
    Program.objects.create(code="mn-res-2025", name="Minnesota RES 2025", kind=Program.Kind.COMPLIANCE,
                           jurisdiction="Minnesota", compliance_year=2025)  # for the batches' "program" filter
    transfer = retire(organization=org, user=trader, account=retirement_account, option=option,
                      lines=[TransferLine(holdings["wind"].pk, 10)])
    send(holdings["solar"], trader, org, counterparty, quantity=5)
    send(foreign_batch, counterparty_trader, counterparty, org, quantity=5)
    upload = mass_upload_create(organization=org, user=trader, upload=SimpleUploadedFile("t.csv", csv_file(
        holdings["solar"], second_account)))
    january_invoice(issue, org)  # an invoice, and charges invoiced and not, that the trader reads as billing contact
    Organization.objects.filter(pk=org.pk).update(billing_contact=trader)
    REGISTRY.append(Registry(
        organization=org, trader=trader, recipient=counterparty, recipient_trader=counterparty_trader,
        account=account, other_account=second_account, retirement_account=retirement_account, option=option,
        tracking_system=tracking_system, reference=transfer.retirement.reference, upload=upload, issue=issue,
        granular=GeneratorFactory(organization=org, code="H100", granular=True, capacity_mw=50, account=account)))
    yield REGISTRY[-1]
    REGISTRY.clear()


@pytest.fixture
def api_key(registry):
    """A retire key (every scope) of the registry's organization."""
    _, key = api_key_for(registry.trader, registry.organization, "retire",
                         expiry_date=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC))
    return key


def csv_file(batch: CertificateBatch, account: Account) -> bytes:
    return ("Serial Number,Quantity,Organization ID,Account ID,Notes\r\n"
            f"{batch.serial_number},1,,{account.public_id},\r\n").encode()


@schemathesis.hook  # before_call has no narrower scope; REGISTRY is empty outside this module's tests
def before_call(context, case, kwargs):
    """Every request the schema allows, generated or one of the coverage phase's (which no
    generation hook sees), fed just before it is sent."""
    if REGISTRY and (case.meta is None or case.meta.generation.mode == GenerationMode.POSITIVE):
        feed(REGISTRY[-1], case)
        with_a_file_still_allowed(case)


def feed(registry: Registry, case) -> None:
    """Into a request the schema allows, the values that name what exists: each generated one that
    names the organization's or the registry's data is replaced by one that exists (chosen by the
    generated value, so that different values name different objects); a date range is put in order.
    Every other value is sent as generated."""
    path, method = case.operation.path.removeprefix("/api/v1"), case.method.upper()
    if isinstance(case.body, dict):  # (an example's body is the schema's own object: changed, a copy)
        case.body = copy.deepcopy(case.body)
    params, query, body = case.path_parameters or {}, case.query or {}, case.body
    org = registry.organization
    accounts = list(Account.objects.of(org).order_by("pk").values_list("public_id", flat=True))
    if "id" in params:
        params["id"] = {
            "/accounts/{id}/": lambda: pick(accounts, params["id"]),
            "/batches/{id}/": lambda: pick(list(CertificateBatch.objects.filter(account__organization=org)
                                                .order_by("pk").values_list("pk", flat=True)), params["id"]),
            "/transfers/{id}/": lambda: pick(list(Transfer.objects.filter(organization=org).exclude(
                status=Transfer.Status.DRAFT).order_by("pk").values_list("pk", flat=True)), params["id"]),
            # A decision each time on a transfer of its own, still pending.
            "/transfers/{id}/accept/": lambda: incoming(registry),
            "/transfers/{id}/reject/": lambda: incoming(registry),
            "/transfers/{id}/withdraw/": lambda: send(registry.active_batches()[0], registry.trader, org,
                                                      registry.recipient, quantity=1).pk,
            "/invoices/{id}/": lambda: pick(list(Invoice.objects.filter(organization=org).values_list(
                "number", flat=True)), params["id"]),
            "/mass-uploads/{id}/": lambda: registry.upload.pk,
            "/mass-uploads/{id}/errors/": lambda: registry.upload.pk,
            "/mass-uploads/{id}/release/": lambda: held_upload(registry),
        }.get(path, lambda: params["id"])()
    if "reference" in params:
        params["reference"] = registry.reference
    if path in ("/batches/", "/batches.csv"):
        named(query, "account", accounts)
        named(query, "eligibility", [name for name, _ in eligibility_choices()])
        named(query, "program", list(Program.objects.order_by("code").values_list("code", flat=True)))
    if path == "/retirements/" and method == "GET":
        named(query, "option", [registry.option.name])
    in_order(query, "submitted_from", "submitted_to")
    if path == "/public/statistics/" and query.get("month_from") and query.get("month_to"):  # MM/YYYY: by year
        first, last = (query[name][3:] + query[name][:2] for name in ("month_from", "month_to"))
        if first > last:
            query["month_from"], query["month_to"] = query["month_to"], query["month_from"]
    if query.get("cursor"):  # one the API gave: a page from one of the organization's rows on
        query["cursor"] = cursor_at(pick(list(range(1, 50)), query["cursor"]))
    if path == "/transfers/{id}/accept/" and isinstance(body, dict):
        body["account"] = registry.account.public_id
    if path in ("/transfers/", "/retirements/") and method == "POST" and isinstance(body, dict):
        batches = registry.active_batches()
        body["lines"] = [{"batch": batch.pk, "quantity": min(line["quantity"], batch.quantity)}
                         for line, batch in zip(body["lines"], batches, strict=False)]
    if path == "/transfers/" and method == "POST" and isinstance(body, dict):
        destination = body["destination"]
        destination |= {"internal": {"account": registry.other_account.public_id},
                        "organization": {"organization": registry.recipient.public_id},
                        "export": {"tracking_system": registry.tracking_system.code}}[destination["type"]]
    if path == "/retirements/" and method == "POST" and isinstance(body, dict):
        body |= {"account": registry.retirement_account.public_id, "option": registry.option.name}
        if body.get("compliance_period") is None:
            body["compliance_period"] = 2024  # the option needs one
        in_order(body, "period_start", "period_end")
    if path == "/consumption/" and isinstance(body, dict) and isinstance(body.get("readings"), list):
        code = fed_site(registry).code
        for reading in body["readings"]:
            period = fed_hour()
            reading |= {"site": code, "start": period.start.isoformat(), "end": period.end.isoformat()}
    if path == "/matching/" and isinstance(body, dict):
        body |= {"site": matchable(registry).code, "account": registry.retirement_account.public_id,
                 "first_day": None, "last_day": None}
    if path == "/mass-uploads/" and isinstance(body, dict):
        body["file"] = Binary(csv_file(registry.active_batches()[0], registry.other_account))
    if path == "/interval-readings/" and method == "POST" and isinstance(body, dict):
        body["readings"] = [unread_hour(registry, line["wh"]) for line in body["readings"]]
    if path == "/api/energytag/v1/certificates/query":
        query["source_id"] = registry.account.public_id
        in_order(query, "certificate_period_start", "certificate_period_end")
    if path.startswith("/api/energytag/v1/") and method == "POST" and isinstance(body, dict):
        feed_energytag(registry, path.rsplit("/", 1)[-1], body)


def feed_energytag(registry: "Registry", operation: str, body: dict) -> None:
    """An EnergyTag action on a GC Bundle of its own: a new hour's, active (or cancelled, for a claim)."""
    bundle = gc_bundle(registry)
    body |= {"source_id": registry.account.public_id, "granular_certificate_bundle_ids": [bundle.pk]}
    if body.get("certificate_quantity") is not None:
        body["certificate_quantity"] = min(body["certificate_quantity"], bundle.quantity)
    if operation == "transfer":
        body["target_id"] = registry.other_account.public_id
    if operation == "cancel":
        body |= {"target_id": registry.retirement_account.public_id, "retirement_option": registry.option.name}
        if body.get("compliance_period") is None:
            body["compliance_period"] = 2024  # the option needs one
    if operation == "claim":
        transfer = retire(organization=registry.organization, user=registry.trader,
                          account=registry.retirement_account, option=registry.option,
                          lines=[TransferLine(bundle.pk, bundle.quantity)])
        body |= {"source_id": registry.retirement_account.public_id, "beneficiary": "",
                 "granular_certificate_bundle_ids": [transfer.items.get().batch_id]}


def gc_bundle(registry: "Registry") -> CertificateBatch:
    """A GC Bundle (a batch of a granular certificate) of a new hour, active in `account`."""
    registry.hours_issued += 1
    start = datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(hours=registry.hours_issued)
    return registry.issue(1_000_000, generator=registry.granular,
                          period=ProductionPeriod(start, start + datetime.timedelta(hours=1)))


def unread_hour(registry: "Registry", wh: int) -> dict:
    """A reading of the granular generator for an hour none was sent for yet, of at most its capacity's Wh."""
    registry.hours_read += 1
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(hours=registry.hours_read)
    return {"generator": registry.granular.code, "interval_start": start.isoformat(),
            "interval_end": (start + datetime.timedelta(hours=1)).isoformat(), "wh": min(wh, 50_000_000)}


HOURS_FED = itertools.count()  # each consumption reading fed is of an hour of its own


def fed_hour() -> ProductionPeriod:
    start = datetime.datetime(2025, 6, 1, tzinfo=datetime.UTC) + datetime.timedelta(hours=next(HOURS_FED))
    return ProductionPeriod(start, start + datetime.timedelta(hours=1))


def fed_site(registry: Registry) -> ConsumptionSite:
    return ConsumptionSite.objects.get_or_create(organization=registry.organization, code="METER-FED",
                                                 defaults={"name": "Fed", "created_by": registry.trader})[0]


def matchable(registry: Registry) -> ConsumptionSite:
    """A site with an hour of consumption and an hourly certificate of that hour held: a match has
    something to retire."""
    site, period = fed_site(registry), fed_hour()
    ConsumptionReading.objects.create(site=site, period=period, wh=10, submitted_by=registry.trader)
    generator = GeneratorFactory(organization=registry.organization, granular=True, account=registry.account)
    certificate_issue(user=UserFactory(is_staff=True), generator=generator, period=period, quantity=10,
                      account=registry.account)
    return site


def with_a_file_still_allowed(case) -> None:
    """A request whose values were fed is judged again by the schema (a value fed must be one it
    allows), but Schemathesis cannot judge a body that holds a file's bytes, and takes it as one the
    schema forbids: the mass upload's body, whose file was fed, is as allowed as it was generated."""
    if case.meta is None or not isinstance(case.body, dict) or not contains_binary(case.body):
        return
    case.meta.components[ParameterLocation.BODY] = ComponentInfo(mode=GenerationMode.POSITIVE)
    case.meta.generation.mode = GenerationMode.POSITIVE
    if any(info.mode.is_negative for info in case.meta.components.values()):
        case.meta.generation.mode = GenerationMode.NEGATIVE


def without_its_key(case) -> bool:
    """Whether the case is one the schema forbids for its headers, made without the API key's
    `Authorization` header (the security scheme's, which the schema requires): the test's own key
    would make it one the schema allows, and its acceptance a false failure."""
    header = case.meta.components.get(ParameterLocation.HEADER) if case.meta else None
    return bool(header and header.mode.is_negative and "Authorization" not in (case.headers or {}))


def cursor_at(position: int) -> str:
    """The cursor of the page after the row `position`, as the API's paginator writes it in `next`."""
    paginator = ApiCursorPagination()
    paginator.base_url = "/"
    return parse_qs(urlsplit(paginator.encode_cursor(Cursor(0, False, str(position)))).query)["cursor"][0]


def pick(values: list, generated):
    """One of `values`, chosen by the generated value."""
    return values[sum(str(generated).encode()) % len(values)]


def named(query: dict, name: str, values: list[str]) -> None:
    if query.get(name):  # empty: no filter
        query[name] = pick(values, query[name])


def in_order(values: dict, first: str, last: str) -> None:
    if values.get(first) and values.get(last) and values[first] > values[last]:
        values[first], values[last] = values[last], values[first]


def incoming(registry: Registry) -> int:
    batch = CertificateBatch.objects.filter(account__organization=registry.recipient,
                                            status=CertificateBatch.Status.ACTIVE).order_by("pk").first()
    return send(batch, registry.recipient_trader, registry.recipient, registry.organization, quantity=1).pk


def held_upload(registry: Registry) -> int:
    """A file uploaded twice within a day: the second is held."""
    content = csv_file(registry.active_batches()[0], registry.other_account) + uuid.uuid4().hex.encode()
    for _ in range(2):
        upload = mass_upload_create(organization=registry.organization, user=registry.trader,
                                    upload=SimpleUploadedFile("held.csv", content))
    return upload.pk


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_the_api_matches_its_schema(case, api_key):
    headers = {"Authorization": f"Api-Key {api_key}"}
    if without_its_key(case):  # a request the schema forbids for that: sent as made, it must be refused
        headers = {}
    sent_key = (case.headers or {}).get("Idempotency-Key", "")
    if len(sent_key) <= KEY_MAX_LENGTH and re.fullmatch(KEY_PATTERN, sent_key):  # one the schema allows
        # Schemathesis sends the same few values again and again; one key with another body is a 422
        # by design (tests/test_api_foundation.py): each new request a new key.
        headers["Idempotency-Key"] = str(uuid.uuid4())
    response = case.call_and_validate(headers=headers)
    if response.request.headers.get("Authorization") == f"Api-Key {api_key}":  # not a case sent without it
        assert response.status_code != 401, response.text  # the key works: the answers are the operation's own


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
                     "invoices": {("id", "integer")}, "mass-uploads": {("id", "integer")},
                     "retirements": {("reference", "string")},
                     "transfers": {("id", "integer")}, "verify": {("reference", "string")},
                     "public": {("reference", "string")}}


def test_the_batches_download_documents_every_filter_of_the_list():
    """batches.csv takes the batches list's filters (the same FilterSet) and its sort: the schema says so."""
    def query_parameters(path):
        return {parameter["name"] for parameter in schema.raw_schema["paths"][path]["get"]["parameters"]
                if parameter["in"] == "query"}

    assert query_parameters("/api/v1/batches.csv") == {*ProgramBatchFilter.base_filters, "status", "sort"}
    assert query_parameters("/api/v1/batches/") == {*ProgramBatchFilter.base_filters, "status", "cursor", "page_size"}


def media_types():
    """Every request body's and answer's media type in the schema: (operation, what, media type, its object)."""
    for path, operations in [*schema.raw_schema["paths"].items(), *schema.raw_schema["webhooks"].items()]:
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                yield label, "request", media_type, content
            for status, response in operation["responses"].items():
                for media_type, content in response.get("content", {}).items():
                    yield label, status, media_type, content


def test_every_request_and_answer_has_an_example_valid_against_its_schema():
    """An integrator reads what to send and what comes back, and what the registry's webhooks send; a
    generated client's tests can use it. A file's bytes (the statement PDF) have no example to show."""
    components = {"components": schema.raw_schema["components"]}
    missing, invalid = [], []
    for label, what, media_type, content in media_types():
        if content["schema"].get("format") == "binary":
            continue
        examples = [example["value"] for example in content.get("examples", {}).values()]
        if not examples:
            missing.append(f"{label} {what} {media_type}")
        validator = jsonschema.Draft202012Validator(content["schema"] | components,
                                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        for value in examples:  # (a multipart body's file as its text)
            invalid += [f"{label} {what}: {error.message}" for error in validator.iter_errors(value)]
    assert missing == []
    assert invalid == []


def test_every_operation_has_a_summary_and_an_id_a_generator_can_use():
    """What Redocly's recommended rules ask (make lint-schema, in CI), checked here too without Node.js:
    a summary each, ids without dots, unique; where the API is served; the public operation needs no key."""
    document = schema.raw_schema
    operations = {f"{method.upper()} {path}": operation for path, methods in document["paths"].items()
                  for method, operation in methods.items()}
    assert [label for label, operation in operations.items() if not operation.get("summary")] == []
    ids = [operation["operationId"] for operation in operations.values()]
    assert [id for id in ids if not re.fullmatch("[A-Za-z0-9_]+", id)] == [] and len(set(ids)) == len(ids)
    assert document["servers"] and document["servers"][0]["url"].startswith("http")
    assert operations["GET /api/v1/verify/{reference}/"]["security"] == []
    assert "nullable" not in json.dumps(document)  # OpenAPI 3.1: null is a type
