"""Every write of events: recording what happened (in the transaction of the change), and each
consumer's claims on what was recorded.

A consumer takes the events in two steps, so that no event is missed, none is run twice at once,
and no network I/O happens inside a transaction:

1. events_claim (one short transaction): lock the consumer's progress row, read the next events
   after it, insert one Claim per event of a kind it wants, move the progress past them.
2. claims_run: take the due claims with SKIP LOCKED and lease them (a short transaction), then run
   the handler on each, with no transaction open (or, for a handler that only writes to the
   database, in the transaction that deletes the claim). A success deletes the claim; a failure
   counts an attempt and puts it off (exponential backoff), or sets it aside after
   EVENTS_MAX_ATTEMPTS. A claim that fails never holds back the others, nor another consumer."""

import datetime
import json
import logging
import time
import traceback
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ledger.services import ledger_write
from utilities.wakeups import Wakeup

from .consumers import Consumer, consumer_get, consumers_all, consumers_of
from .models import Claim, ConsumerProgress, Event

logger = logging.getLogger(__name__)


# Recording -----------------------------------------------------------------------------------------

def event_new(*, kind: str, organization_id: int | None = None, other_organization_id: int | None = None,
              subject_id: int | None = None, data: dict | None = None,
              occurred_at: datetime.datetime | None = None) -> Event:
    """An unsaved event: write it with events_record, or with the change's ledger events
    (ledger_write(..., with_rows=[[event], ...]), one statement) and call events_owed."""
    return Event(kind=kind, organization_id=organization_id, other_organization_id=other_organization_id,
                 subject_id=subject_id, data=data or {}, occurred_at=occurred_at or timezone.now())


def events_record(events: list[Event]) -> None:
    """Append `events` in one INSERT, in the caller's transaction (that of the change they record).
    They are not given their ids back: nothing reads them in the transaction that wrote them."""
    if events:
        ledger_write([], with_rows=[events])
        events_owed(events)


def event_record(**fields) -> Event:
    event = event_new(**fields)
    events_record([event])
    return event


def events_owed(events: Iterable[Event]) -> None:
    """After the commit that wrote `events`, wake each consumer that wants one of them (at most once
    per NOTIFICATION_NUDGE_SECONDS per process; beat runs every consumer anyway)."""
    for consumer in consumers_of({event.kind for event in events}):
        transaction.on_commit(_wakeup(consumer.name))


_wakeups: dict[str, Wakeup] = {}


def _wakeup(name: str) -> Wakeup:
    if name not in _wakeups:
        _wakeups[name] = Wakeup("events.tasks.send_events", name, owed=f"the events owed to {name}")
    return _wakeups[name]


# Step 1: claiming -------------------------------------------------------------------------------

XID_SPAN = 2**32


def _horizon() -> int:
    """A transaction id below which every transaction of this database has ended, so that the
    events they wrote are all visible to the next statement: the smallest id of a transaction still
    running in this database, or the snapshot's xmax when none is.

    A transaction that commits after a later one has a smaller txid; reading only below the horizon
    means it is never skipped. pg_snapshot_xmin would do too, but it counts every database of the
    server: another database's long transaction would hold our emails back. The xmax is read first,
    so that a transaction that starts between the two reads has a txid at or above it.
    pg_stat_activity gives each running transaction's 32-bit xid; its full value is the one within
    2**31 below xmax. (Prepared transactions are not shown there: the registry uses none.) A long
    transaction (a large mass upload's) holds every consumer back until it ends."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint, "
                       "pg_current_xact_id_if_assigned()::text::bigint")
        xmax, own = cursor.fetchone()
        if own is not None:  # run inside the transaction that wrote events (a test's): they are visible to it
            xmax = max(xmax, own + 1)  # and any transaction below it still running is in the list below
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a fresh read, not one cached earlier in the transaction
        cursor.execute("SELECT backend_xid::text::bigint FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL")
        running = [xmax - (xmax % XID_SPAN - xid) % XID_SPAN for (xid,) in cursor.fetchall()]
    return min([xmax, *running])


def events_claim(*, consumer: Consumer, limit: int | None = None) -> int:
    """Claim for `consumer` the next events (up to `limit`) whose transactions have all ended, in
    (txid, id) order, and move its progress past them; one short transaction, serialised per
    consumer by the lock on its progress row. Returns how many events were passed."""
    limit = limit or settings.EVENTS_CLAIM_BATCH
    with transaction.atomic(durable=True):
        horizon = _horizon()  # first: this transaction has no id yet
        ConsumerProgress.objects.bulk_create([ConsumerProgress(consumer=consumer.name)], ignore_conflicts=True)
        progress = ConsumerProgress.objects.select_for_update().get(consumer=consumer.name)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, txid::text::bigint, kind, occurred_at, data FROM events_event "
                "WHERE (txid, id) > (%s::text::xid8, %s) AND txid < %s::text::xid8 ORDER BY txid, id LIMIT %s",
                [progress.txid, progress.event_id, horizon, limit])
            passed = cursor.fetchall()
        if not passed:
            return 0
        Claim.objects.bulk_create([Claim(consumer=consumer.name, event_id=event_id, due_at=occurred_at)
                                   for event_id, _, kind, occurred_at, data in passed
                                   if consumer.wants(kind, json.loads(data) if isinstance(data, str) else data)],
                                  ignore_conflicts=True)  # due since it happened
        last_id, last_txid = passed[-1][:2]
        ConsumerProgress.objects.filter(consumer=consumer.name).update(txid=last_txid, event_id=last_id)
    return len(passed)


# Step 2: running the claims -----------------------------------------------------------------------

def retry_delay(attempts: int) -> datetime.timedelta:
    """How long after its `attempts`-th failure a claim is tried again: doubling from
    EVENTS_RETRY_FIRST_SECONDS, at most EVENTS_RETRY_MAX_SECONDS."""
    seconds = settings.EVENTS_RETRY_FIRST_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return datetime.timedelta(seconds=min(seconds, settings.EVENTS_RETRY_MAX_SECONDS))


def _claims_lease(consumer: Consumer, *, now: datetime.datetime, limit: int, tried: set[int]) -> list[Claim]:
    """The due claims no other worker holds, but those this run tried and did not finish (`tried`), leased to this one
    until now + EVENTS_LEASE_SECONDS (a worker that dies leaves them to be run again after it)."""
    with transaction.atomic(durable=True):
        due = list(Claim.objects.select_for_update(skip_locked=True)
                   .filter(consumer=consumer.name, set_aside_at__isnull=True, due_at__lte=now)
                   .exclude(leased_until__gt=now).exclude(pk__in=tried).order_by("due_at", "event_id")[:limit])
        leased_until = now + datetime.timedelta(seconds=settings.EVENTS_LEASE_SECONDS)
        Claim.objects.filter(pk__in=[claim.pk for claim in due]).update(leased_until=leased_until)
    events = Event.objects.in_bulk([claim.event_id for claim in due])
    for claim in due:
        claim.leased_until, claim.event = leased_until, events[claim.event_id]
    return due


def _claim_mine(claim: Claim):
    """The claim's row, if this worker's lease on it still holds (compare-and-swap on the lease)."""
    return Claim.objects.filter(pk=claim.pk, leased_until=claim.leased_until)


def _claim_run(consumer: Consumer, claim: Claim, *, now: datetime.datetime | None) -> bool:
    """Run the handler on one claim; True if it succeeded (the claim is then deleted)."""
    try:
        if consumer.in_transaction:
            with transaction.atomic(durable=True):
                if not _claim_mine(claim).select_for_update().exists():
                    return False  # its lease ran out and another worker took it
                consumer.handle(claim.event)
                _claim_mine(claim).delete()
        else:
            consumer.handle(claim.event)
            _claim_mine(claim).delete()
        return True
    except Exception as error:  # noqa: BLE001 -- any failure of a handler is the claim's, recorded on it
        _claim_failed(claim, error, now=now or timezone.now())
        return False


def _claims_run_together(consumer: Consumer, claims: list[Claim]) -> set[int] | None:
    """Run `consumer.handle_many` on the claims this worker still holds, in the transaction that
    deletes them; the ids of those it ran, or None if it failed (nothing of it is kept: the caller
    then runs them one at a time)."""
    try:
        with transaction.atomic(durable=True):
            held = {claim.pk: claim for claim in claims}
            mine = set(Claim.objects.select_for_update().filter(
                pk__in=list(held), leased_until=claims[0].leased_until).values_list("pk", flat=True))
            ran = [claim for claim in claims if claim.pk in mine]  # in their lease's order
            if ran:
                consumer.handle_many([claim.event for claim in ran])
                Claim.objects.filter(pk__in=mine).delete()
        return {claim.pk for claim in ran}
    except Exception as error:  # noqa: BLE001 -- the claims are run again alone, each with its own failure
        logger.warning("The %s consumer failed on %s events together; running them one at a time: %s",
                       consumer.name, len(claims), error)
        return None


def _claim_failed(claim: Claim, error: Exception, *, now: datetime.datetime) -> None:
    attempts = claim.attempts + 1
    set_aside = attempts >= settings.EVENTS_MAX_ATTEMPTS
    message = "".join(traceback.format_exception_only(error)).strip()
    _claim_mine(claim).update(attempts=attempts, due_at=now + retry_delay(attempts), leased_until=None,
                              last_error=message[:2000], set_aside_at=now if set_aside else None)
    log = logger.error if set_aside else logger.warning
    log("The %s consumer failed on event %s (attempt %s%s): %s", claim.consumer, claim.event_id, attempts,
        ", set aside" if set_aside else "", message)


def events_consume(*, consumer: str, limit: int | None = None, now: datetime.datetime | None = None) -> int:
    """Claim what `consumer` is owed, then run its due claims, each once, up to `limit` of them (1,000;
    100 times as many for a consumer that takes them together) and for at most EVENTS_RUN_SECONDS
    (beat and the next wake-up go on). Returns how many succeeded. `now` is the clock's time unless
    a test sets it."""
    taken = consumer_get(consumer)
    together = taken.handle_many is not None
    limit = limit or (100_000 if together else 1000)
    lease_size = settings.EVENTS_CLAIM_BATCH if together else 100
    stop_at = time.monotonic() + settings.EVENTS_RUN_SECONDS
    # The claims this run tried and did not finish (a failure, a lease lost): not taken again by it. Those it
    # finished are deleted, so that the list stays short however many it runs (a NOT IN of each lease).
    succeeded, tried, unfinished = 0, 0, set()
    while tried < limit and time.monotonic() < stop_at:
        while events_claim(consumer=taken) and time.monotonic() < stop_at:
            pass
        due = _claims_lease(taken, now=now or timezone.now(), limit=min(lease_size, limit - tried), tried=unfinished)
        if not due:
            break
        tried += len(due)
        ran = _claims_run_together(taken, due) if together else None
        if ran is not None:
            succeeded += len(ran)
            unfinished.update(claim.pk for claim in due if claim.pk not in ran)
            continue
        for claim in due:
            if _claim_run(taken, claim, now=now):
                succeeded += 1
            else:
                unfinished.add(claim.pk)
    return succeeded


def events_consume_all() -> dict[str, int]:
    """Every consumer in turn (the tests' and a shell's shortcut; workers run one task per consumer)."""
    return {consumer.name: events_consume(consumer=consumer.name) for consumer in consumers_all()}


# Staff --------------------------------------------------------------------------------------------

@transaction.atomic(durable=True)
def claims_retry(*, claim_ids: Iterable[int]) -> int:
    """Staff try set-aside claims again: due now, with their attempts counted from zero."""
    retried = Claim.objects.filter(pk__in=list(claim_ids), set_aside_at__isnull=False).update(
        set_aside_at=None, attempts=0, due_at=timezone.now(), leased_until=None)
    if retried:
        for name in set(Claim.objects.filter(pk__in=list(claim_ids)).values_list("consumer", flat=True)):
            transaction.on_commit(_wakeup(name))
    return retried
