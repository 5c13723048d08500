"""The API's transfers: list, detail, create, accept, reject, withdraw, through the same selectors and
services as the pages; problems that name the field; one transfer per Idempotency-Key."""

import json
import threading
import uuid

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Account
from api.models import ApiKey
from certificates.models import CertificateBatch
from ledger.verification import ledger_breaches
from registry.models import Membership
from transfers.models import Transfer

from .conftest import ledger_state, send
from .factories import AccountFactory, api_key_for, member

TRANSFERS = "/api/v1/transfers/"


def post(client: APIClient, path: str, body: dict | None = None, key: str | None = None):
    """POST `body` as JSON with an Idempotency-Key (a new one unless `key`)."""
    return client.post(path, body or {}, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


@pytest.fixture
def owner(api_as, org, manager):
    """A manager's key with every scope."""
    return api_as(manager, org, ApiKey.Scope.RETIRE)


@pytest.fixture
def reader(api_as, org, viewer):
    """A teammate's key with the lower scope: a viewer's, read."""
    return api_as(viewer, org, ApiKey.Scope.READ)


@pytest.fixture
def stranger(api_as, outsider):
    """Another organization's manager's key with every scope."""
    return api_as(outsider, outsider.memberships.get().organization, ApiKey.Scope.RETIRE)


@pytest.fixture
def recipient(api_as, counterparty):
    manager = member(counterparty, Membership.Role.MANAGER, email="manager@lakeshore.example")
    return api_as(manager, counterparty, ApiKey.Scope.RETIRE)


def internal(batch, quantity, account, notes=""):
    return {"lines": [{"batch": batch.pk, "quantity": quantity}],
            "destination": {"type": "internal", "account": account.public_id}, "notes": notes}


def fields(response) -> dict[str, str]:
    """The problem's errors by field (several for one field, one after another)."""
    assert response["Content-Type"] == "application/problem+json", response.content
    found = {}
    for error in response.json()["errors"]:
        found[error["field"]] = " ".join(filter(None, [found.get(error["field"]), error["detail"]]))
    return found


# --- create --------------------------------------------------------------------------------------

def test_partial_internal_transfer_moves_lowest_serials(owner, batch, second_account):
    response = post(owner, TRANSFERS, internal(batch, 250, second_account, notes="Rebalance"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["status"], body["quantity"], body["notes"]) == ("internal", "complete", 250, "Rebalance")
    assert body["destination"]["account"]["id"] == second_account.public_id
    assert response["Location"] == f"{TRANSFERS}{body['id']}/"
    transfer = Transfer.objects.get(pk=body["id"])
    base = batch.certificate.serial_base
    assert transfer.items.get().batch.serial_number == f"{base}-1 to 250"
    assert CertificateBatch.objects.get(parent=batch, account=batch.account).serial_number == f"{base}-251 to 1000"
    assert ledger_breaches() == []


def test_the_answer_names_the_batches_each_line_left_behind(owner, batch, issue, second_account):
    whole = issue(40)
    lines = [{"batch": batch.pk, "quantity": 250}, {"batch": whole.pk, "quantity": 40}]
    response = post(owner, TRANSFERS, {**internal(batch, 250, second_account), "lines": lines})
    assert response.status_code == 201, response.content
    moved = CertificateBatch.objects.get(parent=batch, account=second_account)
    stayed = CertificateBatch.objects.get(parent=batch, account=batch.account)
    assert response.json()["lines"] == [
        {"batch": batch.pk, "quantity": 250, "moved": moved.pk, "remaining": stayed.pk},
        {"batch": whole.pk, "quantity": 40, "moved": whole.pk, "remaining": None},  # all of it moved, as it is
    ]
    assert (moved.serial_start, moved.serial_end, stayed.serial_start, stayed.serial_end) == (1, 250, 251, 1000)
    # The batch that stayed is the one to move next.
    again = post(owner, TRANSFERS, internal(stayed, 750, second_account))
    assert again.status_code == 201, again.content
    assert again.json()["lines"] == [{"batch": stayed.pk, "quantity": 750, "moved": stayed.pk, "remaining": None}]


def test_transfer_to_another_organization_is_pending_until_accepted(owner, recipient, batch, counterparty,
                                                                    counterparty_account):
    response = post(owner, TRANSFERS, {"lines": [{"batch": batch.pk, "quantity": 100}],
                                       "destination": {"type": "organization", "organization": counterparty.public_id}})
    assert response.status_code == 201, response.content
    transfer_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    assert response.json()["expires_at"]

    accepted = post(recipient, f"{TRANSFERS}{transfer_id}/accept/", {"account": counterparty_account.public_id})
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "complete"
    assert accepted.json()["destination"]["account"]["id"] == counterparty_account.public_id
    assert [event["kind"] for event in accepted.json()["history"]] == ["transfer_initiated", "transfer_accepted"]
    moved = Transfer.objects.get(pk=transfer_id).items.get().batch
    assert (moved.account, moved.status) == (counterparty_account, "active")
    assert ledger_breaches() == []


def test_export_is_pending_for_registry_staff(owner, batch, tracking_system):
    response = post(owner, TRANSFERS, {"lines": [{"batch": batch.pk, "quantity": 10}], "destination": {
        "type": "export", "tracking_system": tracking_system.code, "recipient_name": "Sierra Power",
        "recipient_account_ref": "W-77"}})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["type"], body["status"], body["destination"]["tracking_system"]) == ("export", "pending", "WREGIS")
    assert body["destination"]["label"] == "Sierra Power at " + tracking_system.name + ", account W-77"


@pytest.mark.parametrize(("body", "field", "message"), [
    (lambda b, a, f: internal(CertificateBatch(pk=987654), 5, a), "lines[0].batch", "is not an active batch"),
    (lambda b, a, f: internal(f, 5, a), "lines[0].batch", "is not an active batch of Prairie Wind Energy"),
    (lambda b, a, f: internal(b, 1001, a), "lines[0].quantity", "Quantity 1,001 is more than batch "),
    (lambda b, a, f: internal(b, 0, a), "lines[0].quantity", "whole number of at least 1 (got 0)"),
    (lambda b, a, f: {**internal(b, 5, a), "lines": []}, "lines", "at least one line"),
    (lambda b, a, f: internal(b, 5, Account(public_id="ACT-99999")), "destination.account", "open active accounts"),
    (lambda b, a, f: internal(b, 5, b.account), "destination.account", "already in account"),
    (lambda b, a, f: {**internal(b, 5, a), "destination": {"type": "retire"}}, "destination.type", "Choose the type"),
    (lambda b, a, f: {**internal(b, 5, a), "destination": {"type": "organization", "organization": "MM99999"}},
     "destination.organization", "No other active organization"),
    (lambda b, a, f: {**internal(b, 5, a), "destination": {"type": "export", "tracking_system": "NOPE",
                                                           "recipient_name": "X"}},
     "destination.tracking_system", "valid choice"),
    (lambda b, a, f: {**internal(b, 5, a), "destination": {"type": "export", "tracking_system": "WREGIS",
                                                           "recipient_name": " "}},
     "destination.recipient_name", "recipient's name"),
    (lambda b, a, f: {**internal(b, 5, a), "notes": "x" * 501}, "notes", "500"),
])
def test_bad_input_is_a_problem_naming_the_field(owner, batch, second_account, foreign_batch, tracking_system,
                                                 body, field, message):
    before = ledger_state()
    response = post(owner, TRANSFERS, body(batch, second_account, foreign_batch))
    assert response.status_code == 400, response.content
    errors = fields(response)
    assert field in errors and message in errors[field], errors
    assert ledger_state() == before


def test_closed_account_is_refused_by_name(owner, batch, org):
    closed = AccountFactory(organization=org, name="Old", status=Account.Status.CLOSED)
    before = ledger_state()
    response = post(owner, TRANSFERS, internal(batch, 5, closed))
    assert response.status_code == 400
    # one wording for the rule, the wizard's and the service's (Destination.problems)
    assert "is not an open active account (it is a closed active account)" in fields(response)["destination.account"]
    assert ledger_state() == before


def test_an_organization_that_cannot_receive_is_refused_by_the_destinations_rule(owner, batch, counterparty):
    """Destination.problems, as the wizard's destination step asks it, before the service runs."""
    Account.objects.filter(organization=counterparty).update(status=Account.Status.CLOSED)
    before = ledger_state()
    response = post(owner, TRANSFERS, {"lines": [{"batch": batch.pk, "quantity": 5}],
                                       "destination": {"type": "organization", "organization": counterparty.public_id}})
    assert response.status_code == 400, response.content
    assert fields(response) == {"destination.organization": f"{counterparty.public_id} has no account that can "
                                                            "receive certificates yet."}
    assert ledger_state() == before


def test_a_refusal_of_the_service_is_a_422_problem(owner, batch, counterparty, org):
    """The wizard's checks pass, then the service refuses (here, the sending account is frozen)."""
    Account.objects.filter(pk=batch.account_id).update(status=Account.Status.FROZEN)
    before = ledger_state()
    response = post(owner, TRANSFERS, {"lines": [{"batch": batch.pk, "quantity": 5}],
                                       "destination": {"type": "organization", "organization": counterparty.public_id}})
    assert response.status_code == 422, response.content
    assert response.json()["type"].endswith(":refused")
    assert "frozen" in response.json()["detail"]
    assert ledger_state() == before


def test_the_same_batch_twice_is_refused_by_the_service(owner, batch, second_account):
    before = ledger_state()
    body = internal(batch, 5, second_account)
    body["lines"] *= 2
    response = post(owner, TRANSFERS, body)
    assert response.status_code == 422, response.content
    assert "listed twice" in response.json()["detail"]
    assert ledger_state() == before


def test_a_refusal_of_the_service_names_the_field_it_concerns(owner, batch, issue, second_account):
    """The service refuses with the field (the line it read); the problem names it as the body does."""
    other = issue(40)
    Account.objects.filter(pk=batch.account_id).update(status=Account.Status.FROZEN)
    lines = [{"batch": other.pk, "quantity": 5}, {"batch": batch.pk, "quantity": 5}]
    response = post(owner, TRANSFERS, {**internal(batch, 5, second_account), "lines": lines})
    assert response.status_code == 422, response.content
    assert list(fields(response)) == ["lines[1].batch"]
    assert "frozen and cannot send them" in fields(response)["lines[1].batch"]


def test_a_refusal_of_the_whole_request_names_no_field(owner, batch, org, counterparty):
    """A suspended sender: the detail says why, no field is to blame."""
    type(org).objects.filter(pk=org.pk).update(status="suspended")
    response = post(owner, TRANSFERS, {"lines": [{"batch": batch.pk, "quantity": 5}],
                                       "destination": {"type": "organization", "organization": counterparty.public_id}})
    assert response.status_code == 422, response.content
    assert response.json()["errors"] == [] and "suspended" in response.json()["detail"]


def test_a_refusals_fields_are_named_as_the_body_names_them():
    from api.problems import refusal_errors

    problems = {"lines.12.quantity": "Too many.", "destination.account": "Not that one.",
                "retirement.beneficiary": "For whom?", "__all__": "Suspended."}
    assert refusal_errors(problems, {}) == [
        {"field": "lines[12].quantity", "detail": "Too many."},
        {"field": "destination.account", "detail": "Not that one."},
        {"field": "retirement.beneficiary", "detail": "For whom?"}]
    assert refusal_errors(problems, {"destination.account": "account", "retirement": ""})[1:] == [
        {"field": "account", "detail": "Not that one."}, {"field": "beneficiary", "detail": "For whom?"}]


def test_missing_idempotency_key_is_refused(owner, batch, second_account):
    before = ledger_state()
    response = owner.post(TRANSFERS, internal(batch, 5, second_account), format="json")
    assert response.status_code == 400
    assert "Idempotency-Key" in fields(response)
    assert ledger_state() == before


def test_a_replay_creates_one_transfer(owner, batch, second_account):
    first = post(owner, TRANSFERS, internal(batch, 5, second_account), key="order-1")
    again = post(owner, TRANSFERS, internal(batch, 5, second_account), key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Transfer.objects.count() == 1
    other_body = post(owner, TRANSFERS, internal(batch, 6, second_account), key="order-1")
    assert other_body.status_code == 422
    assert Transfer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_eight_parallel_requests_with_one_key_transfer_once(org, manager, second_account, issue):
    batch = issue(1000)
    _, raw = api_key_for(manager, org, ApiKey.Scope.TRADE)
    gate = threading.Barrier(8)
    statuses = []

    def request():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
        try:
            gate.wait()
            statuses.append(post(client, TRANSFERS, internal(batch, 5, second_account), key="once").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Transfer.objects.count() == 1
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    assert ledger_breaches() == []


# A process killed mid-request: it runs in a subprocess on the test database, and is killed (SIGKILL)
# where the answer used to be stored, after the transfer's own commit, or once its answer committed.
KILLED_REQUEST = """
import json, os, signal, sys
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from rest_framework.test import APIClient
from api import idempotency

raw_key, body, dies = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
if dies == "before-the-answer":
    idempotency.store = lambda *args, **kwargs: os.kill(os.getpid(), signal.SIGKILL)
client = APIClient()
client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw_key}")
client.post("/api/v1/transfers/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
os.kill(os.getpid(), signal.SIGKILL)  # its answer committed; its client never reads it
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("dies", ["before-the-answer", "after-the-commit"])
def test_a_request_killed_mid_way_is_answered_by_its_retry_with_one_transfer(org, manager, second_account, issue,
                                                                             dies):
    """Killed before its answer is stored, nothing of the request committed and the retry makes the
    transfer; killed after, the retry answers the transfer made, replayed. Never a 409 for a day,
    never two transfers."""
    import os
    import signal
    import subprocess
    import sys

    from .conftest import ROOT, database_url

    batch = issue(1000)
    _, raw = api_key_for(manager, org, ApiKey.Scope.TRADE)
    body = internal(batch, 5, second_account)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_REQUEST, raw, json.dumps(body), dies], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env=os.environ | {"DATABASE_URL": database_url(), "DJANGO_SETTINGS_MODULE": "portal.settings",
                                       "CELERY_TASK_ALWAYS_EAGER": "1"})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert Transfer.objects.count() == (0 if dies == "before-the-answer" else 1)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    retried = post(client, TRANSFERS, body, key="order-1")
    assert retried.status_code == 201, retried.content
    assert retried.has_header("Idempotent-Replayed") == (dies == "after-the-commit")
    [transfer] = Transfer.objects.all()
    assert retried.json()["id"] == transfer.pk and transfer.items.get().batch.quantity == 5
    assert post(client, TRANSFERS, body, key="order-1").json() == retried.json()
    assert Transfer.objects.count() == 1
    assert ledger_breaches() == []


# --- scope and isolation ---------------------------------------------------------------------------

def test_a_read_key_cannot_transfer(reader, batch, second_account):
    before = ledger_state()
    response = post(reader, TRANSFERS, internal(batch, 5, second_account))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "trade" in response.json()["detail"]
    assert ledger_state() == before


def test_a_read_key_reads(reader, batch, trader, org, counterparty):
    transfer = send(batch, trader, org, counterparty)
    assert reader.get(TRANSFERS).status_code == 200
    assert reader.get(f"{TRANSFERS}{transfer.pk}/").status_code == 200


def test_another_organizations_transfer_is_not_found(stranger, batch, trader, org, counterparty):
    transfer = send(batch, trader, org, counterparty)
    before = ledger_state()
    assert stranger.get(f"{TRANSFERS}{transfer.pk}/").status_code == 404
    for decision, body in [("accept", {"account": "ACT-00001"}), ("reject", {}), ("withdraw", {})]:
        response = post(stranger, f"{TRANSFERS}{transfer.pk}/{decision}/", body)
        assert response.status_code == 404, (decision, response.content)
    assert transfer.pk not in [row["id"] for row in stranger.get(TRANSFERS).json()["results"]]
    assert ledger_state() == before


def test_no_key_is_a_401(client, batch):
    assert APIClient().get(TRANSFERS).status_code == 401


# --- read --------------------------------------------------------------------------------------------

def test_list_filters_as_the_transactions_tab(owner, batch, trader, org, counterparty, second_account):
    sent = send(batch, trader, org, counterparty)
    moved = post(owner, TRANSFERS, internal(batch.__class__.objects.get(parent=batch, status="active"), 10,
                                            second_account)).json()
    listed = owner.get(TRANSFERS).json()["results"]
    assert [row["id"] for row in listed] == [sent.pk, moved["id"]]  # oldest first (api.pagination)
    pending = owner.get(TRANSFERS, {"status": "pending"}).json()["results"]
    assert [row["id"] for row in pending] == [sent.pk]
    assert pending[0]["quantity"] == 100
    by_counterparty = owner.get(TRANSFERS, {"counterparty": "Lakeshore"}).json()["results"]
    assert [row["id"] for row in by_counterparty] == [sent.pk]
    wrong = owner.get(TRANSFERS, {"status": "lost"})
    assert wrong.status_code == 400
    assert "no transaction status" in fields(wrong)["status"]
    misspelt = owner.get(TRANSFERS, {"statuss": "pending"})
    assert misspelt.status_code == 400
    assert "no such query parameter" in fields(misspelt)["statuss"]


def test_list_pages_with_a_cursor(owner, issue, second_account):
    made = [post(owner, TRANSFERS, internal(issue(10), 5, second_account)).json()["id"] for _ in range(5)]
    page = owner.get(TRANSFERS, {"page_size": 2}).json()
    seen = [row["id"] for row in page["results"]]
    while page["next"]:
        page = owner.get(page["next"]).json()
        seen += [row["id"] for row in page["results"]]
    assert seen == made


def test_detail_shows_items_parties_and_history(owner, recipient, batch, trader, org, counterparty):
    transfer = send(batch, trader, org, counterparty, quantity=300)
    for client in (owner, recipient):
        body = client.get(f"{TRANSFERS}{transfer.pk}/").json()
        assert body["sender"] == {"id": org.public_id, "name": org.name}
        assert body["destination"]["organization"]["id"] == counterparty.public_id
        assert body["item_count"] == 1
        item = body["items"][0]
        assert item["serial_number"].endswith("-1 to 300")
        assert (item["quantity"], item["status"], item["source_batch"]) == (300, "pending", batch.pk)
        assert item["source_serial_number"].endswith("-1 to 1000")
        assert [event["kind"] for event in body["history"]] == ["transfer_initiated"]


def test_a_draft_is_not_found(owner, org, manager, batch):
    draft = Transfer.objects.create(organization=org, created_by=manager)
    assert owner.get(f"{TRANSFERS}{draft.pk}/").status_code == 404


# --- decisions -------------------------------------------------------------------------------------

def test_recipient_rejects_and_the_certificates_go_back(owner, recipient, batch, trader, org, counterparty):
    transfer = send(batch, trader, org, counterparty)
    response = post(recipient, f"{TRANSFERS}{transfer.pk}/reject/", {"note": "Wrong vintage"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["decision_note"]) == ("rejected", "Wrong vintage")
    assert transfer.items.get().batch.__class__.objects.get(pk=transfer.items.get().batch_id).status == "active"
    assert ledger_breaches() == []


def test_sender_withdraws(owner, batch, trader, org, counterparty):
    transfer = send(batch, trader, org, counterparty)
    response = post(owner, f"{TRANSFERS}{transfer.pk}/withdraw/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn"
    again = post(owner, f"{TRANSFERS}{transfer.pk}/withdraw/")
    assert again.status_code == 409
    assert again.json()["detail"] == "This transfer was already withdrawn."


def test_the_sender_cannot_accept_its_own_transfer(owner, batch, trader, org, counterparty, second_account):
    transfer = send(batch, trader, org, counterparty)
    before = ledger_state()
    response = post(owner, f"{TRANSFERS}{transfer.pk}/accept/", {"account": second_account.public_id})
    assert response.status_code == 403
    assert response.json()["detail"] == ("You sent this transfer; only the recipient, Lakeshore Power Cooperative, "
                                         "can accept it.")
    assert ledger_state() == before


def test_accept_into_a_closed_account_names_the_field(recipient, batch, trader, org, counterparty):
    transfer = send(batch, trader, org, counterparty)
    closed = AccountFactory(organization=counterparty, name="Closed", status=Account.Status.CLOSED)
    before = ledger_state()
    response = post(recipient, f"{TRANSFERS}{transfer.pk}/accept/", {"account": closed.public_id})
    assert response.status_code == 400
    assert "account" in fields(response)
    assert ledger_state() == before


def test_a_read_key_cannot_decide(api_as, counterparty, batch, trader, org):
    transfer = send(batch, trader, org, counterparty)
    manager = member(counterparty, Membership.Role.MANAGER, email="m2@lakeshore.example")
    reader = api_as(manager, counterparty, ApiKey.Scope.READ)
    before = ledger_state()
    assert post(reader, f"{TRANSFERS}{transfer.pk}/reject/").status_code == 403
    assert ledger_state() == before


def test_a_create_request_makes_a_known_number_of_statements(owner, batch, second_account):
    from django.test.utils import CaptureQueriesContext

    post(owner, TRANSFERS, internal(batch, 10, second_account))  # the first: the key's last_used_at written
    rest = CertificateBatch.objects.get(parent=batch, account=batch.account)
    with CaptureQueriesContext(connection) as queries:
        response = post(owner, TRANSFERS, internal(rest, 10, second_account))
    assert response.status_code == 201, response.content
    captured = [" ".join(query["sql"].split()) for query in queries.captured_queries]
    statements = [sql for sql in captured if not sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    # The key (one statement, its creator's role with it) and the idempotency claim, committed on
    # its own; then one transaction: the claim's row locked, the batches (selection_batches), the
    # accounts the destination may be, the service's statements, and the stored answer, committed
    # with them. No query of the account's id, nor of the key's last use within the minute. The new
    # transfer's id is drawn by a statement of its own, in the same round trip as the batches' lock.
    assert statements[0].startswith("SELECT k.") and "registry_membership" in statements[0]
    assert statements[1].startswith("INSERT INTO api_idempotentrequest")
    assert statements[2].startswith('SELECT "api_idempotentrequest"') and statements[2].endswith("SKIP LOCKED")
    assert statements[-1].startswith("UPDATE api_idempotentrequest")
    assert not any(statement.startswith('UPDATE "api_apikey"') for statement in statements)
    assert any(statement.startswith("SELECT nextval(pg_get_serial_sequence('transfers_transfer'")
               for statement in statements)
    assert len(statements) == 13, "\n".join(statements)
    # Savepoints: the handler's (a refusal keeps only its answer) and transfer_write's, each made and
    # released; the request's own transaction is one too here, inside the test's.
    assert len(captured) - len(statements) == 6, "\n".join(captured)


def test_a_webhook_tells_the_transfer_as_the_api_answers_it(owner, recipient, batch, trader, org, counterparty,
                                                            counterparty_account):
    """One representation of a transfer: a webhook's body holds the API's, with its items, its
    retirement and its page (webhooks.payloads)."""
    import datetime

    from django.conf import settings

    from webhooks.payloads import event_payload

    transfer = send(batch, trader, org, counterparty)
    post(recipient, f"{TRANSFERS}{transfer.pk}/accept/", {"account": counterparty_account.public_id})
    for client, organization in ((owner, org), (recipient, counterparty)):
        answered = client.get(f"{TRANSFERS}{transfer.pk}/").json()
        told = event_payload(event_type="transfer.accepted", event_id=uuid.uuid4(), organization=organization,
                             created_at=datetime.datetime.now(datetime.UTC),
                             transfer=Transfer.objects.get(pk=transfer.pk))["data"]["transfer"]
        assert json.loads(json.dumps(told)) == {key: value for key, value in answered.items() if key != "history"} | {
            "url": f"{settings.SITE_URL}/transfers/{transfer.pk}/?organization={organization.public_id}"}
        assert told["type"] == "organization" and told["destination"]["tracking_system"] is None
