"""The API under load, over HTTP, against gunicorn (2 workers) on PostgreSQL.

    .venv/bin/python bench/api_load.py [--seconds 20] [--clients 1,4,16] [--batches 100000]

Seeds an organization with `--batches` active batches to list, and another with batches to transfer
from, then:
1. N concurrent clients (threads, each with its own trade key) create partial internal transfers
   through `POST /api/v1/transfers/`, each with a new Idempotency-Key, each on its own batches:
   created transfers per second and p95 per request at each N, CPU time per transfer (gunicorn
   workers, PostgreSQL, this client), and verify_ledger;
2. one client (a read key of the first organization) lists every active batch page by page
   (`GET /api/v1/batches/?page_size=1000`, following `next`): total seconds and rows;
3. the race: every client at once transfers three fifths of the same batch; exactly one fits, the
   others are refused (409 or 422), and verify_ledger is clean.

The keys' rate limit is lifted for the run (API_RATE_PER_KEY): it is the limit, not the server,
that a client would otherwise meet first.
"""

import argparse
import http.client
import json
import os
import threading
import time
import uuid
from collections import Counter

from common import percentile, setup_django
from wizard_load import cpu_seconds, cpu_spent, gunicorn_start, race


class ApiClient:
    """One client's HTTP calls with its key: plain http.client, a new connection a request (gunicorn's
    sync workers close each one)."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Api-Key {self.key}", "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers |= {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        return response.status, json.loads(content) if content else {}


def transfer_body(batch_id: int, quantity: int, account: str) -> dict:
    return {"lines": [{"batch": batch_id, "quantity": quantity}],
            "destination": {"type": "internal", "account": account}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--batches", type=int, default=100_000, help="active batches the listing reads")
    options = parser.parse_args()
    client_counts = [int(n) for n in options.clients.split(",")]
    url = setup_django(database="registry_bench_api", fresh=True)

    from django.db import connection

    from accounts.models import Account
    from api.services import api_key_create
    from certificates.models import CertificateBatch
    from ledger.verification import ledger_breaches
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User

    print(f"load average before: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    most = max(client_counts)
    started = time.perf_counter()
    User.objects.create_user("bench-staff@example.org", "demo", is_staff=True)
    manager = User.objects.create_user("manager@bench.example", "demo")

    def organization(name: str, batches: int) -> tuple[Organization, Account]:
        org = Organization.objects.create(name=name)
        Membership.objects.create(user=manager, organization=org, role=Membership.Role.MANAGER)
        account = Account.objects.create(organization=org, name="Source")
        Seed().scale(org, batches)
        return org, account

    # The listing reads an organization of exactly --batches active batches; the clients transfer
    # from another's, enough for the best rate over every round.
    listed_org, _ = organization("Bench Listing", options.batches)
    org, source = organization("Bench Wind", int(len(client_counts) * options.seconds * 300) + 1000)
    target = Account.objects.create(organization=org, name="Target")
    keys = [api_key_create(organization=org, user=manager, name=f"client {index}", scope="trade")[1]
            for index in range(most)]
    listing_key = api_key_create(organization=listed_org, user=manager, name="listing", scope="read")[1]
    batches = list(CertificateBatch.objects.filter(account=source, status="active").order_by("pk")
                   .values_list("pk", "quantity"))  # each transferred once: the quantities stay as read here
    with connection.cursor() as cursor:  # planner statistics, as autovacuum keeps them on a live registry
        cursor.execute("VACUUM ANALYZE")
    print(f"seeded {options.batches:,} batches to list and {len(batches):,} to transfer from in "
          f"{time.perf_counter() - started:.0f} s")

    server, port = gunicorn_start(url, "api_load", API_RATE_PER_KEY="1000000/second")
    try:
        clients = [ApiClient(port, key) for key in keys]
        for client in clients:  # warm both workers (imports, the first connection to PostgreSQL)
            assert client.request("GET", "/api/v1/organization/")[0] == 200

        pool, pool_lock = iter(batches), threading.Lock()
        for count in client_counts:
            timings, statuses = [], Counter()
            deadline = time.perf_counter() + options.seconds

            def work(client, deadline=deadline, timings=timings, statuses=statuses):
                while time.perf_counter() < deadline:
                    with pool_lock:
                        batch_id, quantity = next(pool)
                    begun = time.perf_counter()
                    status, _ = client.request("POST", "/api/v1/transfers/",
                                               transfer_body(batch_id, max(quantity // 2, 1), target.public_id))
                    timings.append(time.perf_counter() - begun)
                    statuses[status] += 1

            begun, cpu_before = time.perf_counter(), cpu_seconds(server)
            threads = [threading.Thread(target=work, args=(clients[index],)) for index in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - begun
            cpu = cpu_spent(cpu_before, cpu_seconds(server))
            created = statuses[201]
            breaches = ledger_breaches()
            print(f"N={count:>2}: {created} created in {elapsed:.1f} s = {created / elapsed:.1f} transfers/s; "
                  f"per request median {percentile(timings, 0.5) * 1000:.0f} ms, p95 "
                  f"{percentile(timings, 0.95) * 1000:.0f} ms; statuses {dict(statuses)}; "
                  f"verify_ledger: {'clean' if not breaches else breaches[:3]}")
            print(f"      CPU per transfer: gunicorn {cpu['gunicorn'] / created * 1000:.1f} ms, PostgreSQL "
                  f"{cpu['postgres'] / created * 1000:.1f} ms, this client {cpu['client'] / created * 1000:.1f} ms")

        # Every active batch, a page of 1,000 at a time, following the cursor.
        lister = ApiClient(port, listing_key)
        begun, rows, pages = time.perf_counter(), 0, 0
        path = "/api/v1/batches/?page_size=1000"
        while path:
            status, page = lister.request("GET", path)
            assert status == 200, (status, page)
            rows, pages = rows + len(page["results"]), pages + 1
            path = page["next"] and page["next"].split(f":{port}", 1)[-1]
        listed = time.perf_counter() - begun
        print(f"listing: {rows:,} batches in {pages} pages in {listed:.2f} s "
              f"({listed / pages * 1000:.0f} ms a page)")

        contested, most_of, outcomes, made = race(source, most, lambda index, batch_id, quantity: clients[
            index].request("POST", "/api/v1/transfers/", transfer_body(batch_id, quantity, target.public_id))[0])
        breaches = ledger_breaches()
        print(f"race: {most} clients each transferring {most_of:,} of batch {contested.pk} "
              f"({contested.quantity:,}): statuses {dict(Counter(outcomes))}, {made} transfer(s) in the database "
              f"(expected 1); verify_ledger: {'clean' if not breaches else breaches[:3]}")
        print(f"load average after: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    finally:
        server.terminate()
        server.wait()
        celery_app.control.purge()  # the benchmark's notification tasks are not to be sent


if __name__ == "__main__":
    main()
