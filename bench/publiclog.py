"""The public log of retirements (#34):
- the consumer's throughput: --retirements (5,000) retirements, bulk-inserted with their
  retirement.made events, then appended by the publiclog consumer (record, digest, leaf, nodes)
  (goal: the log keeps up with 1,000 retirements a second);
- an inclusion proof's latency with --leaves (10,000,000) leaves: the leaves appended through the
  log's own append (leaves_append, in chunks of 100,000, with made-up retirement ids: the benchmark's
  superuser skips the foreign key, as bench/public_stats.py skips the ledger's guards), then
  --requests (400) inclusion proofs of random leaves against the latest checkpoint, through the API's
  whole request stack in process, each from another address (goal: p95 at most 20 ms). Each proof is
  checked against the checkpoint's root.

    .venv/bin/python bench/publiclog.py [--retirements 5000] [--leaves 10000000] [--requests 400] [--profile]
    .venv/bin/python bench/publiclog.py --database bench_log10m [--requests 400]

With --database, only the proofs, on a log kept in that database (bench/publiclog_fill.py fills one
with 10,000,000 leaves in minutes). Each part prints this process's CPU time and its PostgreSQL
backend's, which the machine's load moves less than the elapsed time.
"""

import argparse
import base64
import cProfile
import hashlib
import os
import pstats
import random
import time

from common import describe, setup_django
from retirement import seed_retirements
from transfer_service import backend_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--retirements", type=int, default=5_000)
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database", help="measure the proofs only, on the log kept in this database")
    parser.add_argument("--profile", action="store_true", help="print the consumer's profile (cProfile)")
    options = parser.parse_args()
    if options.database:
        setup_django(options.database, exact=True)
        from publiclog.models import Checkpoint

        proofs_measure(Checkpoint.objects.latest(), options.requests)
        return
    setup_django("registry_bench_publiclog", fresh=True)

    from django.db import connection, transaction

    from accounts.models import Account
    from certificates.models import CertificateBatch, Generator
    from events.models import Event
    from events.services import event_new, events_consume, events_record
    from portal.management.commands.seed_demo import Command as Seed
    from publiclog.models import LogLeaf
    from publiclog.services import CONSUMER, checkpoint_sign, leaves_append
    from registry.models import Membership, Organization, User
    from retirements.models import RetirementOption
    from transfers.models import Transfer

    User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    trader = User.objects.create_user("bench-trader@example.org", "x")
    org = Organization.objects.create(name="Bench Power")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    source = Account.objects.create(organization=org, name="Source")
    Generator.objects.create(organization=org, code="B000", name="Bench wind", fuel_type="wind",
                             technology="onshore_wind", state="MN", capacity_mw=50, status=Generator.Status.APPROVED)
    Seed().scale(org, options.retirements)
    into = Account.objects.create(organization=org, name="Retirements", type=Account.Type.RETIREMENT)
    option = RetirementOption.objects.create(name="Minnesota RES", type=RetirementOption.Type.STATE_RPS,
                                             reason=RetirementOption.Reason.COMPLIANCE, state="MN")
    batches = iter(CertificateBatch.objects.filter(account=source, status="active").order_by("pk"))
    seed_retirements(org=org, user=trader, source=source, into=into, option=option, count=options.retirements,
                     batches=batches)
    with transaction.atomic():
        events_record([event_new(kind=Event.Kind.RETIREMENT_MADE, organization_id=org.pk, subject_id=transfer_id,
                                 data={"transfer_kind": "retirement", "mass_upload_id": None})
                       for transfer_id in Transfer.objects.filter(kind=Transfer.Kind.RETIREMENT)
                       .order_by("pk").values_list("pk", flat=True)])
    pid = connection.connection.info.backend_pid
    started, cpu, server = time.perf_counter(), time.process_time(), backend_cpu(pid)
    profile = cProfile.Profile() if options.profile else None
    if profile:
        profile.enable()
    appended = 0
    while ran := events_consume(consumer=CONSUMER):
        appended += ran
    if profile:
        profile.disable()
    seconds, cpu, server = time.perf_counter() - started, time.process_time() - cpu, backend_cpu(pid) - server
    print(f"consumer: {appended:,} retirements appended in {seconds:.2f} s, {appended / seconds:,.0f} a second "
          f"(goal: 1,000 a second); {LogLeaf.objects.count():,} leaves; CPU a retirement: this process "
          f"{cpu / appended * 1000:.2f} ms, PostgreSQL's backend {server / appended * 1000:.2f} ms "
          f"({appended / (cpu + server):,.0f} a second of both processes' CPU)")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)

    started = time.perf_counter()
    chunk, made_up = 100_000, 10**12  # retirement ids no retirement has
    while (size := LogLeaf.objects.count()) < options.leaves:
        count = min(chunk, options.leaves - size)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            leaves_append([(made_up + size + i, hashlib.sha256((size + i).to_bytes(8, "big")).digest())
                           for i in range(count)])
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE publiclog_logleaf; ANALYZE publiclog_lognode")
    if options.leaves > appended:
            print(f"appended {options.leaves - appended:,} more leaves in {seconds:.1f} s "
              f"({(options.leaves - appended) / seconds:,.0f} a second, by leaves_append in chunks of {chunk:,})")
    started = time.perf_counter()
    checkpoint = checkpoint_sign()
    print(f"checkpoint of {checkpoint.size:,} leaves signed in {(time.perf_counter() - started) * 1000:.1f} ms")

    proofs_measure(checkpoint, options.requests)


def proofs_measure(checkpoint, requests: int) -> None:
    """`requests` inclusion proofs of random leaves at the checkpoint's size, through the API's whole
    request stack in process, each from another address, each checked against the checkpoint's root."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from publiclog import merkle

    settings.PUBLICLOG_REQUESTS_PER_MINUTE = 1_000_000  # the requests measure the proofs, not the limit
    client = Client(HTTP_HOST="localhost")
    root_hash = bytes(checkpoint.root_hash)
    timings = []
    cpu = server = 0.0
    for request in range(requests + 20):
        index = random.randrange(checkpoint.size)
        url = f"/api/v1/public/log/inclusion/?index={index}&tree_size={checkpoint.size}"
        started, cpu_started = time.perf_counter(), time.process_time()
        server_started = backend_cpu(connection.connection.info.backend_pid) if connection.connection else 0.0
        response = client.get(url, REMOTE_ADDR=f"198.51.{request // 250}.{request % 250 + 1}")
        elapsed = time.perf_counter() - started
        if request >= 20:  # the first warm the connection and caches
            timings.append(elapsed)
            cpu += time.process_time() - cpu_started
            server += backend_cpu(connection.connection.info.backend_pid) - server_started
        assert response.status_code == 200, (url, response.status_code)
        proof = response.json()
        assert merkle.inclusion_verified(leaf=base64.b64decode(proof["leaf_hash"]), index=index, size=checkpoint.size,
                                         proof=[base64.b64decode(node) for node in proof["proof"]],
                                         root_hash=root_hash), index
    print(f"inclusion proofs at {checkpoint.size:,} leaves, {requests} requests: {describe(timings)} "
          f"(goal: p95 at most 20 ms); CPU a proof: this process {cpu / requests * 1000:.2f} ms, "
          f"PostgreSQL's backend {server / requests * 1000:.2f} ms (/proc: 10 ms steps)")
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
