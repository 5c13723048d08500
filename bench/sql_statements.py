"""Hand-written statements against their ORM version, in process, one call at a time: this process's
CPU (Django's side) and the wall time a call, and the Python function calls a call (cProfile's count,
which does not move with the machine's load). Each statement's docstring names its figure.

    .venv/bin/python bench/sql_statements.py [--calls 300] [--rounds 3] [--only lock]

- the API's idempotency claim (api.idempotency.claim) against bulk_create(ignore_conflicts=True);
- ledger_write against bulk_create, for a transfer's few ledger events and for a chunk's 2,000;
- the batches' lock planned once per connection (force_generic_plan) against PostgreSQL's own choice
  (plan_cache_mode auto), both in a round trip of their own and read into the same instances;
- the session's read (registry.sessions.SessionStore.load) against Django's database SessionStore.

The two of each pair alternate, round by round. Every write is rolled back.
"""

import argparse
import cProfile
import pstats
import statistics
import time
import uuid

from common import setup_django

ONLY = [""]


class Rollback(Exception):
    pass


def measure(work, calls: int) -> tuple[float, float]:
    """CPU and wall time a call, in microseconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        work()
    return (time.process_time() - cpu) / calls * 1e6, (time.perf_counter() - wall) / calls * 1e6


def python_calls(work) -> int:
    profile = cProfile.Profile()
    profile.enable()
    work()
    profile.disable()
    return pstats.Stats(profile).total_calls


def compare(name: str, pair: dict, calls: int, rounds: int, wrap=None) -> None:
    if ONLY[0] not in name:
        return
    results = {label: ([], []) for label in pair}
    for _ in range(rounds):
        for label, work in pair.items():
            cpu, wall = wrap(lambda w=work: measure(w, calls)) if wrap else measure(work, calls)
            results[label][0].append(cpu)
            results[label][1].append(wall)
    print(f"\n{name} ({calls} calls x {rounds} rounds)")
    for label, work in pair.items():
        cpu, wall = results[label]
        counted = wrap(lambda w=work: python_calls(w)) if wrap else python_calls(work)
        print(f"  {label:<46} CPU {statistics.median(cpu):8.1f} us  wall {statistics.median(wall):8.1f} us"
              f"  Python calls {counted:6d}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="", help="only the comparisons whose name contains this")
    options = parser.parse_args()
    ONLY[0] = options.only
    setup_django(database="registry_bench_sql_statements", fresh=True)

    from django.contrib.sessions.backends import db as django_sessions
    from django.db import connection, transaction

    from accounts.models import Account
    from api.idempotency import claim
    from api.models import ApiKey, IdempotentRequest
    from api.services import api_key_create
    from certificates.models import CertificateBatch
    from certificates.services import BATCH_LOCK_SQL, _locked_batches, batches_lock
    from ledger.models import LedgerEvent
    from ledger.services import ledger_event, ledger_write
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User
    from registry.sessions import SessionStore
    from utilities.rows import RoundTrip

    manager = User.objects.create_user("manager@bench.example", "demo")
    org = Organization.objects.create(name="Bench Wind")
    Membership.objects.create(user=manager, organization=org, role=Membership.Role.MANAGER)
    Account.objects.create(organization=org, name="Source")
    Seed().scale(org, 200)
    api_key_create(organization=org, user=manager, name="bench", scope="trade")
    api_key = ApiKey.objects.get()
    batch_ids = list(CertificateBatch.objects.filter(account__organization=org).order_by("pk")
                     .values_list("pk", flat=True)[:5])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")

    def rolled_back(work):
        outcome = []
        try:
            with transaction.atomic():
                outcome.append(work())
                raise Rollback
        except Rollback:
            return outcome[0]

    # The idempotency claim: autocommitted in the request; here in a transaction rolled back.
    def claim_sql():
        claim(organization_id=org.pk, api_key_id=api_key.pk, key=uuid.uuid4().hex, method="POST",
              path="/api/v1/transfers/", body_sha256="0" * 64)

    def claim_orm():
        IdempotentRequest.objects.bulk_create([IdempotentRequest(
            organization_id=org.pk, api_key_id=api_key.pk, key=uuid.uuid4().hex, method="POST",
            path="/api/v1/transfers/", body_sha256="0" * 64)], ignore_conflicts=True)

    compare("idempotency claim", {"SQL (api.idempotency._CLAIM_SQL)": claim_sql,
                                  "ORM bulk_create(ignore_conflicts=True)": claim_orm},
            options.calls, options.rounds, wrap=rolled_back)

    def events(count):
        return [ledger_event(kind=LedgerEvent.Kind.SPLIT, actor=manager, organization=org, note=f"bench {index}",
                             before={"index": index}) for index in range(count)]

    for count, calls in ((3, options.calls), (2000, max(3, options.calls // 100))):
        compare(f"ledger events, {count} a write", {
            "ledger_write (one INSERT, arrays past 20 rows)": lambda count=count: ledger_write(events(count)),
            "ORM bulk_create": lambda count=count: LedgerEvent.objects.bulk_create(events(count)),
        }, calls, options.rounds, wrap=rolled_back)

    def lock_plan_cache_auto():  # batches_lock_in without its two settings around the statement
        trip = RoundTrip()
        locked = trip.add(BATCH_LOCK_SQL, {"user_id": manager.pk, "ids": batch_ids,
                                           "roles": list(Membership.ROLES_THAT_TRANSFER)}, read=_locked_batches)
        trip.send()
        return locked.value

    compare(f"the batches' lock, {len(batch_ids)} batches", {
        "batches_lock (generic plan, one round trip)": lambda: batches_lock(batch_ids, user_id=manager.pk),
        "the same statement, plan_cache_mode auto": lock_plan_cache_auto,
    }, options.calls, options.rounds, wrap=rolled_back)

    store = SessionStore()
    store["bench"] = True
    store.create()
    key = store.session_key
    compare("the session's read", {
        "registry.sessions.SessionStore.load (SQL)": lambda: SessionStore(key).load(),
        "django.contrib.sessions.backends.db (ORM)": lambda: django_sessions.SessionStore(key).load(),
    }, options.calls, options.rounds)


if __name__ == "__main__":
    main()
