"""The Certificates dashboard on 100,000 batches in one organization.

    .venv/bin/python bench/dashboard.py [--batches 100000] [--requests 50]

Server time of the Active tab's first page (no filter; vintage range + fuel filter), median and p95
over N requests through Django's full request stack (in process, no network), and the CSV download
of every row: seconds, and peak Python memory while streaming (tracemalloc) for a filtered part of the rows
and for all of them, to show memory does not grow with the row count.
"""

import argparse
import os
import time
import tracemalloc

from common import describe, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    options = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_django(database="registry_bench_dashboard", fresh=True)

    from django.core.management import call_command
    from django.test import Client

    from certificates.models import CertificateBatch
    from registry.models import User

    started = time.perf_counter()
    call_command("seed_demo", batches=options.batches, verbosity=0, stdout=open(os.devnull, "w"))
    print(f"seeded in {time.perf_counter() - started:.1f} s")
    from django.db import connection
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    trader = User.objects.get(email="trader@prairiewind.example")
    live = CertificateBatch.objects.filter(account__organization__memberships__user=trader, status="active").count()
    print(f"active batches of Prairie Wind Energy: {live:,}")
    client = Client()
    client.force_login(trader)

    def timed(url: str) -> list[float]:
        client.get(url)  # warm
        samples = []
        for _ in range(options.requests):
            begun = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - begun)
            assert response.status_code == 200
        return samples

    print("Active tab, first page, no filter:          ", describe(timed("/certificates/")))
    filtered = "/certificates/?vintage_from=01/2021&vintage_to=12/2022&fuel=wind"
    print("Active tab, first page, vintage 2021-22 wind:", describe(timed(filtered)))
    print("Active tab, HTMX table only, same filter:    ", describe(timed_htmx(client, filtered, options.requests)))

    for label, url in (("wind in MN only", "/certificates/download.csv?fuel=wind&state=MN"),
                       ("every row", "/certificates/download.csv")):
        begun = time.perf_counter()
        rows = sum(chunk.count(b"\n") for chunk in client.get(url).streaming_content) - 1
        seconds = time.perf_counter() - begun
        tracemalloc.start()
        for _ in client.get(url).streaming_content:
            pass
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"CSV download, {label}: {rows:,} rows in {seconds:.2f} s; peak Python memory while "
              f"streaming {peak / 2**20:.1f} MiB")


def timed_htmx(client, url, count):
    headers = {"HX-Request": "true", "HX-Target": "results"}
    client.get(url, headers=headers)
    samples = []
    for _ in range(count):
        begun = time.perf_counter()
        client.get(url, headers=headers)
        samples.append(time.perf_counter() - begun)
    return samples


if __name__ == "__main__":
    main()
