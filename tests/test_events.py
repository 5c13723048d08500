"""The domain events' outbox: each consumer claims every event once, in its own progress, even when
transactions commit out of order; a failing event is retried with backoff and set aside without
holding back later events or another consumer."""

import datetime
import threading
import time

import pytest
from django.db import IntegrityError, InternalError, connection, connections, transaction
from django.db.utils import ProgrammingError
from django.utils import timezone

from events.consumers import Consumer, consumer_register
from events.models import Claim, Event
from events.services import event_record, events_claim, events_consume

pytestmark = pytest.mark.django_db(transaction=True)
KIND = Event.Kind.TRANSFER_SUBMITTED


@pytest.fixture
def consumers(monkeypatch, no_wakeups):
    """Register test consumers (each handler gets its event); the app's own stay out of the way, and
    no commit wakes a worker: each test runs the consumers itself."""
    from events import consumers as registry

    monkeypatch.setattr(registry, "_consumers", {})

    def register(name, handle, *, in_transaction=False, kinds=(KIND,)):
        consumer = Consumer(name=name, handle=handle, kinds=frozenset(kinds), in_transaction=in_transaction)
        consumer_register(consumer)
        return consumer
    return register


def in_thread(call):
    """Run `call` in a thread of its own, on its own database connection; returns the thread."""
    def run():
        try:
            call()
        finally:
            connections.close_all()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_an_event_that_commits_after_a_later_one_is_not_missed(consumers):
    seen = []
    consumers("log", lambda event: seen.append(event.subject_id))
    first_written, second_committed = threading.Event(), threading.Event()

    def first():  # writes first (the smaller id and txid), commits last
        with transaction.atomic():
            event_record(kind=KIND, subject_id=1)
            first_written.set()
            assert second_committed.wait(10)
            time.sleep(0.2)  # the consumer below runs while this transaction is still open

    def second():
        assert first_written.wait(10)
        with transaction.atomic():
            event_record(kind=KIND, subject_id=2)
        second_committed.set()

    threads = [in_thread(first), in_thread(second)]
    assert second_committed.wait(10)
    events_consume(consumer="log")  # the first transaction is still open: nothing after it is claimed
    assert seen == []
    for thread in threads:
        thread.join(10)
    events_consume(consumer="log")
    assert seen == [1, 2]
    events_consume(consumer="log")
    assert seen == [1, 2] and not Claim.objects.exists()


def test_a_transaction_in_another_database_holds_nothing_back(consumers):
    """The horizon is this database's: another database's open transaction (here the template's
    postgres database) does not delay the events."""
    seen = []
    consumers("log", lambda event: seen.append(event.subject_id))
    elsewhere = connection.get_new_connection({**connection.get_connection_params(), "dbname": "postgres"})
    try:
        with elsewhere.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("SELECT pg_current_xact_id()")  # a transaction id, held open
            event_record(kind=KIND, subject_id=7)
            events_consume(consumer="log")
            cursor.execute("ROLLBACK")
    finally:
        elsewhere.close()
    assert seen == [7]


def test_two_workers_on_one_consumer_run_each_event_once(consumers):
    runs = []
    lock = threading.Lock()

    def handle(event):
        time.sleep(0.005)
        with lock:
            runs.append(event.subject_id)
    consumers("log", handle)
    for subject_id in range(60):
        event_record(kind=KIND, subject_id=subject_id)
    barrier = threading.Barrier(2)

    def worker():
        barrier.wait()
        events_consume(consumer="log")
    for thread in [in_thread(worker), in_thread(worker)]:
        thread.join(30)
    assert sorted(runs) == list(range(60))
    assert not Claim.objects.exists()


def test_two_consumers_each_get_every_event_with_their_own_progress(consumers):
    emails, hooks = [], []
    consumers("emails", lambda event: emails.append(event.subject_id))
    consumers("hooks", lambda event: hooks.append(event.subject_id), in_transaction=True)
    consumers("other", lambda event: pytest.fail("not of its kinds"), kinds=[Event.Kind.UPLOAD_FINISHED])
    event_record(kind=KIND, subject_id=1)
    events_consume(consumer="emails")
    event_record(kind=KIND, subject_id=2)
    events_consume(consumer="hooks")
    events_consume(consumer="emails")
    events_consume(consumer="other")
    assert emails == [1, 2] and hooks == [1, 2]


def test_a_failing_event_is_retried_with_backoff_then_set_aside_and_holds_nothing_back(
        settings, consumers, admin_client):
    settings.EVENTS_MAX_ATTEMPTS, settings.EVENTS_RETRY_FIRST_SECONDS = 3, 30
    done, others = [], []

    def handle(event):
        if event.data.get("poison"):
            raise ConnectionError("the mail server refused it")
        done.append(event.subject_id)
    consumers("emails", handle)
    consumers("hooks", lambda event: others.append(event.subject_id))
    event_record(kind=KIND, subject_id=1, data={"poison": True})
    event_record(kind=KIND, subject_id=2)
    now = timezone.now()
    events_consume(consumer="emails", now=now)
    claim = Claim.objects.get(consumer="emails")
    assert done == [2] and claim.attempts == 1 and claim.due_at == now + datetime.timedelta(seconds=30)
    assert "the mail server refused it" in claim.last_error and claim.set_aside_at is None

    event_record(kind=KIND, subject_id=3)  # a later event goes through at once; the failed one waits
    events_consume(consumer="emails", now=now + datetime.timedelta(seconds=10))
    assert done == [2, 3] and Claim.objects.get(consumer="emails").attempts == 1

    later = now + datetime.timedelta(seconds=31)
    events_consume(consumer="emails", now=later)
    claim = Claim.objects.get(consumer="emails")
    assert claim.attempts == 2 and claim.due_at == later + datetime.timedelta(seconds=60)  # doubled
    events_consume(consumer="emails", now=later + datetime.timedelta(seconds=61))
    claim = Claim.objects.get(consumer="emails")
    assert claim.attempts == 3 and claim.set_aside_at is not None
    events_consume(consumer="emails", now=later + datetime.timedelta(days=1))
    assert Claim.objects.get(consumer="emails").attempts == 3  # set aside: not tried again on its own

    events_consume(consumer="hooks")  # the other consumer never waited for it
    assert others == [1, 2, 3]

    page = admin_client.get("/admin/events/claim/?state=set_aside")
    assert page.status_code == 200 and "the mail server refused it" in page.content.decode()
    answer = admin_client.post("/admin/events/claim/", {"action": "try_again", "_selected_action": [claim.pk]},
                               follow=True)
    assert "1 set-aside claim will be tried again now." in answer.content.decode()
    claim.refresh_from_db()
    assert claim.set_aside_at is None and claim.attempts == 0
    events_consume(consumer="emails")  # due now
    assert Claim.objects.get(consumer="emails").attempts == 1


def test_a_handler_that_writes_runs_in_the_claims_transaction_and_rolls_back_with_it(consumers):
    def handle(event):
        assert connection.in_atomic_block
        event_record(kind=Event.Kind.UPLOAD_FINISHED, subject_id=event.subject_id)
        raise ValueError("after writing")
    consumers("hooks", handle, in_transaction=True)
    event_record(kind=KIND, subject_id=5)
    events_consume(consumer="hooks")
    assert not Event.objects.filter(kind=Event.Kind.UPLOAD_FINISHED).exists()
    assert Claim.objects.get(consumer="hooks").attempts == 1


def test_a_sending_handler_runs_outside_any_transaction(consumers):
    inside = []
    consumers("emails", lambda event: inside.append(connection.in_atomic_block))
    event_record(kind=KIND, subject_id=1)
    events_consume(consumer="emails")
    assert inside == [False]


def test_events_are_append_only(consumers):
    event_record(kind=KIND, subject_id=1)
    event = Event.objects.get()
    for change in (lambda: Event.objects.filter(pk=event.pk).update(subject_id=2),
                   lambda: Event.objects.filter(pk=event.pk).delete()):
        with pytest.raises((InternalError, ProgrammingError, IntegrityError)), transaction.atomic():
            change()
    assert Event.objects.get(pk=event.pk).subject_id == 1


def test_claiming_twice_claims_nothing_twice(consumers):
    consumer = consumers("log", lambda event: None)
    event_record(kind=KIND, subject_id=1)
    assert events_claim(consumer=consumer) == 1
    assert events_claim(consumer=consumer) == 0
    assert Claim.objects.filter(consumer="log").count() == 1


def test_the_emails_owed_before_the_events_become_events_in_the_migration(
        no_wakeups, batch, trader, org, counterparty):
    from django.db.migrations.executor import MigrationExecutor

    from .conftest import send
    from .test_migrations_apps import migrate_to_the_end

    transfer = send(batch, trader, org, counterparty)
    before = set(Event.objects.values_list("pk", flat=True))
    executor = MigrationExecutor(connection)
    executor.migrate([("transfers", "0008_mass_upload_kind")])
    try:
        old = executor.loader.project_state([("transfers", "0008_mass_upload_kind")]).apps
        old.get_model("transfers", "TransferNotification").objects.create(
            transfer_id=transfer.pk, event_kind="transfer_accepted", created_at=timezone.now())
    finally:  # every app, not only transfers: going back took the apps that depend on it (imports) too
        migrate_to_the_end()
    [owed] = Event.objects.exclude(pk__in=before)
    assert (owed.kind, owed.subject_id, owed.organization_id, owed.other_organization_id) == (
        Event.Kind.TRANSFER_ACCEPTED, transfer.pk, org.pk, counterparty.pk)
    assert owed.data == {"transfer_kind": "organization", "mass_upload_id": None}
