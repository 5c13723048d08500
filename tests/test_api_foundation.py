"""The API's foundation: keys (scope, role, expiry, revocation), problem details, rate limits and
exactly-once POSTs, through a small view in this module that opens an account (account_open's rule
on names, in a service that joins the request's transaction)."""

import datetime
import threading
import time
import uuid

import pytest
from django.db import connection, connections, transaction
from django.urls import include, path
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.models import Account
from accounts.services import account_open
from api.authentication import LAST_USED_PRECISION
from api.idempotency import idempotent
from api.models import ApiKey, IdempotentRequest
from api.problems import PROBLEM_CONTENT_TYPE
from api.services import api_key_create, api_key_revoke
from api.throttling import ApiKeyThrottle
from registry.models import Membership
from registry.services import ServiceError
from tests.conftest import wait_for
from tests.factories import api_key_for


class AccountOpenSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)


# What the request acting holds on for before it acts, so that the others meet it acting: a
# condition the parallel test sets (no fixed pause).
ACTING_WAITS_FOR = []


class AccountOpenView(APIView):
    """GET reads (a read key); POST opens an account named `name` plus a random suffix, so acting
    twice would open two (a trade key)."""

    scopes = {"get": ApiKey.Scope.READ, "post": ApiKey.Scope.TRADE}

    def get(self, request):
        return Response({"organization": request.auth.organization.public_id, "user": request.user.email})

    @idempotent
    def post(self, request):
        serializer = AccountOpenSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        for condition in ACTING_WAITS_FOR:
            wait_for(condition, 30, "the other requests were not answered while this one acted")
        name = serializer.validated_data["name"]
        if name == "explode":
            raise RuntimeError("a bug")
        opens = account_open if name == "durable" else account_open_joining
        account = opens(user=request.user, organization=request.auth.organization,
                        name=name if name == "Main active" else f"{name} {uuid.uuid4().hex[:6]}",
                        type=Account.Type.ACTIVE)
        return Response({"public_id": account.public_id, "name": account.name}, status=201)


@transaction.atomic
def account_open_joining(*, user, organization, name: str, type: str) -> Account:
    """account_open's rule on names, in the caller's transaction: an idempotent handler's service
    joins the request's transaction (api.idempotency); account_open is durable."""
    if Account.objects.filter(organization=organization, name=name).exists():
        raise ServiceError(f"{organization.name} already has an account named {name}; choose another name.")
    return Account.objects.create(organization=organization, name=name, type=type)


class NoScopeView(APIView):
    def get(self, request):
        return Response({})


urlpatterns = [
    path("api/", include("api.urls")),
    path("probe/", AccountOpenView.as_view()),
    path("no-scope/", NoScopeView.as_view()),
]
pytestmark = pytest.mark.urls(__name__)


def client_with(key: str | None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def assert_problem(response, status: int, code: str, text: str = "") -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_CONTENT_TYPE
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "instance", "errors"}
    assert body["type"] == f"urn:rec-registry:problem:{code}"
    assert body["status"] == status and body["instance"] == response.wsgi_request.path
    assert text in body["detail"], body
    return body


def post(client, body, key="k-1"):
    return client.post("/probe/", body, format="json", headers={"Idempotency-Key": key} if key else {})


# Keys: who they act as, and when they stop working.

def test_a_key_acts_as_its_creator_for_its_organization(org, viewer):
    _, key = api_key_for(viewer, org, "read")
    response = client_with(key).get("/probe/")
    assert response.json() == {"organization": org.public_id, "user": viewer.email}


def test_no_key_is_a_401_problem_naming_the_scheme(db):
    response = client_with(None).get("/probe/")
    assert_problem(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("key", ["nonsense", "abcdefgh.wrongsecret", ".", "Bearer"])
def test_a_key_that_is_not_ours_is_a_401(org, viewer, key):
    api_key_for(viewer, org, "read")
    assert_problem(client_with(key).get("/probe/"), 401, "not-authenticated", "not valid")


def test_a_key_with_the_right_prefix_and_a_wrong_secret_is_a_401(org, viewer):
    row, key = api_key_for(viewer, org, "read")
    prefix, secret = key.split(".", 1)
    wrong = prefix + "." + ("y" if secret[0] == "x" else "x") + secret[1:]  # one character of the secret changed
    assert prefix == row.prefix and wrong != key
    assert_problem(client_with(wrong).get("/probe/"), 401, "not-authenticated", "not valid")


def test_a_revoked_key_is_a_401(org, manager):
    row, key = api_key_for(manager, org, "read")
    api_key_revoke(organization=org, user=manager, api_key=row)
    assert_problem(client_with(key).get("/probe/"), 401, "not-authenticated", "revoked")
    row.refresh_from_db()
    assert row.revoked_by == manager and row.revoked_at is not None


def test_an_expired_key_is_a_401(org, viewer):
    _, key = api_key_for(viewer, org, "read", expiry_date=timezone.now() - datetime.timedelta(seconds=1))
    assert_problem(client_with(key).get("/probe/"), 401, "not-authenticated", "expired")


def test_a_key_before_its_expiry_works(org, viewer):
    _, key = api_key_for(viewer, org, "read", expiry_date=timezone.now() + datetime.timedelta(days=1))
    assert client_with(key).get("/probe/").status_code == 200


def test_a_trade_key_stops_working_when_its_creator_becomes_a_viewer(org, trader):
    _, key = api_key_for(trader, org, "trade")
    assert client_with(key).get("/probe/").status_code == 200
    Membership.objects.filter(user=trader).update(role=Membership.Role.VIEWER)
    assert_problem(client_with(key).get("/probe/"), 401, "not-authenticated", "no longer works")


def test_a_read_key_keeps_working_when_its_creator_becomes_a_viewer(org, trader):
    _, key = api_key_for(trader, org, "read")
    Membership.objects.filter(user=trader).update(role=Membership.Role.VIEWER)
    assert client_with(key).get("/probe/").status_code == 200


def test_a_key_stops_working_when_its_creator_leaves_the_organization(org, trader):
    _, key = api_key_for(trader, org, "read")
    Membership.objects.filter(user=trader).delete()
    assert_problem(client_with(key).get("/probe/"), 401, "not-authenticated", "no longer works")


def test_a_key_stops_working_when_its_creator_is_deactivated(org, trader):
    _, key = api_key_for(trader, org, "read")
    trader.is_active = False
    trader.save(update_fields=["is_active"])
    assert client_with(key).get("/probe/").status_code == 401


def test_a_key_is_stored_hashed(org, viewer):
    row, key = api_key_for(viewer, org, "read")
    row.refresh_from_db()
    assert key.split(".")[1] not in row.hashed_key and row.hashed_key.startswith("sha512$$")
    assert key.startswith(row.prefix + ".")


@pytest.mark.parametrize(("role", "scopes"), [
    (Membership.Role.VIEWER, ["read"]),
    (Membership.Role.TRADER, ["read", "trade", "retire"]),
    (Membership.Role.MANAGER, ["read", "trade", "retire"]),
    (None, []),
])
def test_the_scopes_a_role_allows(role, scopes):
    assert [value for value, _ in ApiKey.scopes_for_role(role)] == scopes


def test_only_a_manager_creates_a_key(org, trader, manager):
    with pytest.raises(ServiceError, match="Only a manager of Prairie Wind Energy may do this."):
        api_key_create(organization=org, user=trader, name="ERP", scope="read")
    row, key = api_key_create(organization=org, user=manager, name="ERP", scope="retire")
    assert row.created_by == manager and row.scope == "retire" and ApiKey.objects.get_from_key(key) == row


def test_a_manager_who_is_not_a_member_creates_no_key(org, outsider):
    with pytest.raises(ServiceError):
        api_key_create(organization=org, user=outsider, name="ERP", scope="read")
    assert not ApiKey.objects.exists()


def test_a_key_cannot_expire_in_the_past(org, manager):
    with pytest.raises(ServiceError, match="future"):
        api_key_create(organization=org, user=manager, name="ERP", scope="read",
                       expiry_date=timezone.now() - datetime.timedelta(minutes=1))


def test_only_a_manager_or_registry_staff_revokes_a_key(org, trader, manager, staff):
    """The one manager rule (registry.services.manager_require), staff's exemption included."""
    row, _ = api_key_for(manager, org, "read")
    with pytest.raises(ServiceError, match="Only a manager of Prairie Wind Energy may do this."):
        api_key_revoke(organization=org, user=trader, api_key=row)
    api_key_revoke(organization=org, user=staff, api_key=row)
    row.refresh_from_db()
    assert row.revoked and row.revoked_by == staff


def test_registry_staff_who_are_not_members_create_no_key(org, staff):
    """A key acts with its creator's role in the organization; staff have none there."""
    with pytest.raises(ServiceError, match="only a member of Prairie Wind Energy may create one"):
        api_key_create(organization=org, user=staff, name="ERP", scope="read")
    assert not ApiKey.objects.exists()


def test_revoking_twice_is_refused(org, manager):
    row, _ = api_key_for(manager, org, "read")
    api_key_revoke(organization=org, user=manager, api_key=row)
    with pytest.raises(ServiceError, match="already revoked"):
        api_key_revoke(organization=org, user=manager, api_key=row)


def test_last_used_is_written_at_most_once_a_minute(org, viewer, django_assert_max_num_queries):
    row, key = api_key_for(viewer, org, "read")
    client = client_with(key)
    client.get("/probe/")
    row.refresh_from_db()
    first = row.last_used_at
    assert first is not None
    client.get("/probe/")
    row.refresh_from_db()
    assert row.last_used_at == first  # not written again within the minute
    ApiKey.objects.filter(pk=row.pk).update(last_used_at=first - LAST_USED_PRECISION * 2)
    client.get("/probe/")
    row.refresh_from_db()
    assert row.last_used_at > first


def test_a_request_within_the_minute_is_one_query(org, viewer, django_assert_num_queries):
    _, key = api_key_for(viewer, org, "read")
    client = client_with(key)
    client.get("/probe/")
    with django_assert_num_queries(1):  # the key, its organization, its creator and the creator's role
        assert client.get("/probe/").status_code == 200


# Scopes.

def test_a_read_key_cannot_post(org, manager):
    _, key = api_key_for(manager, org, "read")
    assert_problem(post(client_with(key), {"name": "New"}), 403, "permission-denied", "needs a key with the trade")
    assert not Account.objects.filter(name__startswith="New").exists()


@pytest.mark.parametrize("scope", ["trade", "retire"])
def test_a_trade_or_retire_key_posts(org, manager, scope):
    _, key = api_key_for(manager, org, scope)
    assert post(client_with(key), {"name": "New"}).status_code == 201


def test_a_view_that_declares_no_scope_refuses_every_key(org, manager):
    _, key = api_key_for(manager, org, "retire")
    assert client_with(key).get("/no-scope/").status_code == 403


# Problems.

def test_a_validation_error_names_the_field(org, manager):
    _, key = api_key_for(manager, org, "trade")
    body = assert_problem(post(client_with(key), {"name": ""}), 400, "invalid")
    assert body["errors"] == [{"field": "name", "detail": "This field may not be blank."}]
    assert body["detail"] == "name: This field may not be blank."


def test_a_service_refusal_is_a_422_with_its_message(org, manager, account):
    _, key = api_key_for(manager, org, "trade")
    body = assert_problem(post(client_with(key), {"name": "Main active"}), 422, "refused", "Main active")
    assert body["title"] == "Request refused"


def test_a_malformed_body_is_a_400_problem(org, manager):
    _, key = api_key_for(manager, org, "trade")
    response = client_with(key).post("/probe/", "{not json", content_type="application/json",
                                     headers={"Idempotency-Key": "k"})
    assert_problem(response, 400, "invalid")


# Rate limits.

def test_a_key_over_its_rate_is_a_429_with_retry_after(org, viewer, monkeypatch):
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "3/minute"})
    _, key = api_key_for(viewer, org, "read")
    _, other_key = api_key_for(viewer, org, "read")
    client = client_with(key)
    assert [client.get("/probe/").status_code for _ in range(3)] == [200, 200, 200]
    response = client.get("/probe/")
    assert_problem(response, 429, "throttled")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert client_with(other_key).get("/probe/").status_code == 200  # counted per key


def test_a_window_s_counter_expires_with_the_window(db, still_clock):
    """The counter is made by the window's first request with its expiry (one round trip), so a
    counter never outlives its window; a later request leaves the expiry as it was."""

    from utilities import throttle

    name = f"test:{time.time_ns()}"
    assert [throttle.over_limit(name, limit=2, window_seconds=600) for _ in range(3)] == [False, False, True]
    assert 0 < throttle._redis().ttl(throttle.window_key(name, 600)) <= 600


# Exactly-once POSTs.

def test_a_post_without_an_idempotency_key_is_a_400_naming_the_header(org, manager):
    _, key = api_key_for(manager, org, "trade")
    body = assert_problem(post(client_with(key), {"name": "New"}, key=None), 400, "idempotency-key-missing")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert not Account.objects.filter(name__startswith="New").exists()


@pytest.mark.parametrize("idempotency_key", ["clé-1", " key-1", "key-1\t", "k" * 256])
def test_an_idempotency_key_the_schema_does_not_allow_is_a_400(org, manager, idempotency_key):
    """The schema's pattern: 1 to 255 printable ASCII characters, no blank at either end."""
    _, key = api_key_for(manager, org, "trade")
    body = assert_problem(post(client_with(key), {"name": "New"}, key=idempotency_key), 400, "invalid")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert not Account.objects.filter(name__startswith="New").exists()


def test_an_idempotency_key_of_255_printable_characters_is_taken(org, manager):
    _, key = api_key_for(manager, org, "trade")
    assert post(client_with(key), {"name": "New"}, key="a-b " * 63 + "c~!").status_code == 201


def test_the_same_key_and_body_answers_the_first_response_without_acting_again(org, manager):
    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    first = post(client, {"name": "New"})
    again = post(client, {"name": "New"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Account.objects.filter(name__startswith="New").count() == 1


def test_another_key_of_the_organization_replays_too(org, manager):
    _, key = api_key_for(manager, org, "trade")
    _, second_key = api_key_for(manager, org, "trade")
    first = post(client_with(key), {"name": "New"})
    assert post(client_with(second_key), {"name": "New"}).json() == first.json()
    assert Account.objects.filter(name__startswith="New").count() == 1


def test_another_organization_may_use_the_same_idempotency_key(org, manager, outsider):
    _, key = api_key_for(manager, org, "trade")
    _, outsider_key = api_key_for(outsider, outsider.memberships.get().organization, "trade")
    assert post(client_with(key), {"name": "New"}).status_code == 201
    assert post(client_with(outsider_key), {"name": "New"}).status_code == 201
    assert Account.objects.filter(name__startswith="New").count() == 2


def test_the_same_key_with_another_body_is_a_422(org, manager):
    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    post(client, {"name": "New"})
    body = assert_problem(post(client, {"name": "Other"}), 422, "idempotency-key-reused")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert not Account.objects.filter(name__startswith="Other").exists()


def test_a_refusal_is_stored_and_answered_again(org, manager, account):
    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    first = post(client, {"name": "Main active"})
    again = post(client, {"name": "Main active"})
    assert first.status_code == again.status_code == 422
    assert again.json() == first.json() and again["Content-Type"] == PROBLEM_CONTENT_TYPE


def test_a_failure_frees_the_key_for_a_retry(org, manager):
    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    client.raise_request_exception = False
    assert post(client, {"name": "explode"}, key="k-1").status_code == 500
    assert not IdempotentRequest.objects.filter(response_status__isnull=False).exists()
    retried = post(client, {"name": "New"}, key="k-1")
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried
    assert Account.objects.filter(name__startswith="New").count() == 1


def test_a_handler_whose_service_commits_on_its_own_fails_at_once_and_changes_nothing(org, manager):
    """A durable service cannot join the request's transaction, so its answer could not commit with
    it: Django refuses to nest it, and the request is a 500 that leaves no account and no answer."""
    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    client.raise_request_exception = False
    assert post(client, {"name": "durable"}).status_code == 500
    assert not Account.objects.filter(name__startswith="durable").exists()
    assert not IdempotentRequest.objects.filter(response_status__isnull=False).exists()


def test_an_unexpected_error_is_a_500_problem_that_tells_nothing_and_is_logged(org, manager, caplog):
    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    client.raise_request_exception = False
    response = post(client, {"name": "explode"})
    body = assert_problem(response, 500, "internal-error", "unexpected error")
    assert body["title"] == "Internal server error" and "a bug" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    [logged] = [record for record in caplog.records if record.name == "api.problems"]
    assert logged.levelname == "ERROR" and logged.exc_info[0] is RuntimeError and "/probe/" in logged.getMessage()


def test_a_key_older_than_a_day_acts_again(org, manager):
    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    post(client, {"name": "New"})
    IdempotentRequest.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert "Idempotent-Replayed" not in post(client, {"name": "New"})
    assert Account.objects.filter(name__startswith="New").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_request_still_acting_is_a_409_and_a_claim_whose_request_died_is_taken_by_the_retry(org, manager):
    """"Still acting" is the key's row locked by a live transaction (here another connection's,
    as a request in another process holds it). Once that transaction is gone (the process died: its
    connection closed, nothing of it committed), the retry acts, once, without waiting for a lease."""
    _, key = api_key_for(manager, org, "trade")
    IdempotentRequest.objects.create(organization=org, api_key=ApiKey.objects.get(), key="k-1", method="POST",
                                     path="/probe/", body_sha256="x")
    locked, release = threading.Event(), threading.Event()

    def acting_elsewhere():  # this thread's own connection
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute(f"SELECT 1 FROM {IdempotentRequest._meta.db_table} WHERE key = 'k-1' FOR UPDATE")
            locked.set()
            release.wait(timeout=30)
        connection.close()  # gone mid-transaction, as a killed process's: PostgreSQL rolls it back

    elsewhere = threading.Thread(target=acting_elsewhere)
    elsewhere.start()
    try:
        assert locked.wait(timeout=30)
        response = post(client_with(key), {"name": "New"}, key="k-1")
        assert_problem(response, 409, "idempotency-key-in-use")
        assert response["Retry-After"] == "1"
    finally:
        release.set()
        elsewhere.join(timeout=30)
    retried = post(client_with(key), {"name": "New"}, key="k-1")
    assert retried.status_code == 201, retried.content
    assert post(client_with(key), {"name": "New"}, key="k-1")["Idempotent-Replayed"] == "true"
    assert Account.objects.filter(name__startswith="New").count() == 1


@pytest.mark.django_db(transaction=True)
def test_eight_parallel_requests_with_one_key_act_once(org, manager):
    _, key = api_key_for(manager, org, "trade")
    barrier = threading.Barrier(8)
    responses = []
    # The one acting holds on until the seven others have their answers: all eight overlap.
    ACTING_WAITS_FOR.append(lambda: len(responses) >= 7)

    def request():
        try:
            barrier.wait()
            responses.append(post(client_with(key), {"name": "Parallel"}, key="same-key"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=request) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        ACTING_WAITS_FOR.clear()
    assert Account.objects.filter(name__startswith="Parallel").count() == 1
    statuses = sorted(response.status_code for response in responses)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    created = {response.json()["public_id"] for response in responses if response.status_code == 201}
    assert len(created) == 1
    # Once the first has answered, every retry gets its response.
    assert post(client_with(key), {"name": "Parallel"}, key="same-key").json()["public_id"] in created


def test_with_redis_down_the_api_still_answers_unthrottled(org, viewer, monkeypatch, settings):
    nothing_listens = "redis://127.0.0.1:1/0"
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": nothing_listens}}
    monkeypatch.setattr(ApiKeyThrottle, "THROTTLE_RATES", {"api_key": "1/minute"})
    _, key = api_key_for(viewer, org, "read")
    client = client_with(key)
    assert [client.get("/probe/").status_code for _ in range(3)] == [200, 200, 200]


def test_answers_older_than_a_day_are_purged(org, manager):
    from api.tasks import purge_idempotent_requests

    _, key = api_key_for(manager, org, "trade")
    client = client_with(key)
    post(client, {"name": "Old"}, key="old")
    post(client, {"name": "New"}, key="new")
    IdempotentRequest.objects.filter(key="old").update(created_at=timezone.now() - datetime.timedelta(hours=25))
    assert purge_idempotent_requests.delay().get() == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new"]
