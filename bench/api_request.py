"""One API create-transfer request, in process, deterministic: its SQL statements and its Python
function calls (cProfile), and the time and CPU (this process's: Django's side) of many, on
PostgreSQL, through Django's whole request stack (the test Client with a real trade key and an
Idempotency-Key, as bench/api_load.py's clients send).

    .venv/bin/python bench/api_request.py [--requests 300] [--profile 20] [--top 25] [--match REGEX]

The load on a shared machine moves api_load.py's figures 3x minute to minute; the call and query
counts here do not move, so a change to the API's layers is judged by them first.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import time
import uuid

from common import describe, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300, help="timed requests")
    parser.add_argument("--profile", type=int, default=20, help="requests under cProfile")
    parser.add_argument("--top", type=int, default=25, help="functions listed by cumulative time")
    parser.add_argument("--match", default="", help="list only functions whose file matches (a regex)")
    options = parser.parse_args()
    setup_django(database="registry_bench_api_request", fresh=True)

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Account
    from api.services import api_key_create
    from certificates.models import CertificateBatch
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_key"] = "1000000/second"
    User.objects.create_user("bench-staff@example.org", "demo", is_staff=True)
    manager = User.objects.create_user("manager@bench.example", "demo")
    org = Organization.objects.create(name="Bench Wind")
    Membership.objects.create(user=manager, organization=org, role=Membership.Role.MANAGER)
    source = Account.objects.create(organization=org, name="Source")
    total = options.requests + options.profile + 22
    Seed().scale(org, total)
    target = Account.objects.create(organization=org, name="Target")
    key = api_key_create(organization=org, user=manager, name="bench", scope="trade")[1]
    batches = iter(CertificateBatch.objects.filter(account=source, status="active").order_by("pk")
                   .values_list("pk", "quantity"))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}", HTTP_ACCEPT="application/json")

    def create() -> None:
        batch_id, quantity = next(batches)
        body = {"lines": [{"batch": batch_id, "quantity": max(quantity // 2, 1)}],
                "destination": {"type": "internal", "account": target.public_id}}
        response = client.post("/api/v1/transfers/", json.dumps(body), content_type="application/json",
                               HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        assert response.status_code == 201, response.content

    create()  # warm: imports, the connection, the first compiled queries
    with CaptureQueriesContext(connection) as queries:
        create()
    slowest: dict[int, float] = {}
    for _ in range(20):  # each statement's time, summed over 20 requests
        with CaptureQueriesContext(connection) as again:
            create()
        for index, query in enumerate(again.captured_queries):
            slowest[index] = slowest.get(index, 0) + float(query["time"]) / 20
    print(f"load average: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    print(f"SQL statements of one create request: {len(queries.captured_queries)}")
    for index, query in enumerate(queries.captured_queries):
        print(f"  {slowest.get(index, 0) * 1000:5.1f} ms  {' '.join(query['sql'].split())[:140]}")

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(options.profile):
        create()
    profile.disable()
    stats = pstats.Stats(profile)
    print(f"function calls a request: {stats.total_calls // options.profile:,} "
          f"({stats.prim_calls // options.profile:,} primitive)")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(*filter(None, [options.match]), options.top)
    print(out.getvalue())

    timings, cpu_begun = [], time.process_time()
    for _ in range(options.requests):
        begun = time.perf_counter()
        create()
        timings.append(time.perf_counter() - begun)
    cpu = (time.process_time() - cpu_begun) / options.requests
    print(f"{options.requests} requests one after another: {describe(timings)}; "
          f"{len(timings) / sum(timings):.0f} a second; this process's CPU {cpu * 1000:.1f} ms a request")
    print(f"load average: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    celery_app.control.purge()


if __name__ == "__main__":
    main()
