"""Reads at scale, on the database bench/scale_fill.py wrote (--database, bench_scale: 10,000,000 hourly
batches, 1,000,000 of them the organization "Bench Scale Large"'s), issue 33's goals:

- the Active tab's first page, p95 at most 150 ms, unfiltered and filtered by an interval range (the
  hourly filters `interval_from`/`interval_to`: --filter; a month of hourly batches by default), through
  Django's full request stack in process (no network), as its manager sees it. The page shows its rows,
  then asks for its totals (COUNT and SUM of every matching batch) by a request of its own (htmx,
  hx-trigger="load"; without JavaScript, a link to the page with them, `totals=1`): each is timed apart,
  the page, its table alone (a filter's htmx request), the totals' request and the page with its totals;
- the API's listing of the organization's 1,000,000 batches, every page followed (`next`, 1,000 a page),
  in at most 60 s;
- the CSV download of all its batches: seconds, and the process's resident memory sampled while it
  streams (flat: it does not grow with the rows);

then EXPLAIN (ANALYZE, BUFFERS) of the statements of one Active tab request, slowest first (--explain).

    .venv/bin/python bench/scale_reads.py [--database bench_scale] [--requests 30] [--explain]
"""

import argparse
import os
import re
import time

from common import describe, percentile, setup_django
from hourly_issuance import MemorySampler, resident_mb

LARGE_MANAGER = "trader@0.scale.example"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="bench_scale")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--filter", default="interval_from=2025-03-01T00:00:00-06:00"
                                              "&interval_to=2025-04-01T00:00:00-05:00",
                        help="the interval range's query string (March 2025 in the registry's zone)")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--skip-tab", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-csv", action="store_true")
    options = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_django(options.database, exact=True)

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from certificates.models import CertificateBatch
    from registry.models import User

    manager = User.objects.get(email=LARGE_MANAGER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM bench_scale_key")
        key = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM certificates_certificatebatch")
        total = cursor.fetchone()[0]
    held = CertificateBatch.objects.filter(account__organization__memberships__user=manager, status="active").count()
    print(f"{options.database}: {total:,} batches; Bench Scale Large holds {held:,} active")
    client = Client()
    client.force_login(manager)

    def timed(url: str, headers=None) -> list[float]:
        client.get(url, headers=headers)  # warm
        samples = []
        for _ in range(options.requests):
            begun = time.perf_counter()
            response = client.get(url, headers=headers)
            samples.append(time.perf_counter() - begun)
            assert response.status_code == 200, response.status_code
        return samples

    filtered = f"/certificates/?{options.filter.replace('+', '%2B')}"
    table, totals = {"HX-Request": "true", "HX-Target": "results"}, {"HX-Request": "true", "HX-Target": "totals"}
    rows = client.get(filtered, headers=totals).content.decode()
    shown = re.search(r"([\d,]+)</strong> batch", rows)
    print(f"filter {options.filter!r}: {shown.group(1) if shown else '?'} batches")
    for label, url, headers in () if options.skip_tab else (
            ("Active tab, first page, no filter:              ", "/certificates/", None),
            ("  its totals' request (after the page):         ", "/certificates/", totals),
            ("Active tab, first page, interval range:         ", filtered, None),
            ("  HTMX table only (a filter's request):         ", filtered, table),
            ("  its totals' request (after the page):         ", filtered, totals),
            ("  the page with its totals (no JavaScript link): ", f"{filtered}&totals=1", None)):
        cpu = time.process_time()
        samples = timed(url, headers)
        cpu_ms = (time.process_time() - cpu) / len(samples) * 1000
        goal = "" if label.startswith(" ") else "goal p95 <= 150 ms; "
        print(label, describe(samples), f"({goal}process CPU {cpu_ms:.0f} ms a request)", flush=True)

    if not options.skip_api:
        api = Client(headers={"Authorization": f"Api-Key {key}"})
        url, count, pages, slowest = "/api/v1/batches/?page_size=1000", 0, 0, []
        begun, cpu = time.perf_counter(), time.process_time()
        while url:
            page_begun = time.perf_counter()
            response = api.get(url)
            slowest.append(time.perf_counter() - page_begun)
            assert response.status_code == 200, response.content[:500]
            body = response.json()
            count += len(body["results"])
            pages += 1
            url = body["next"]
        seconds = time.perf_counter() - begun
        print(f"API listing, every page of 1,000: {count:,} batches in {pages:,} pages, {seconds:.1f} s "
              f"(goal <= 60 s); a page: median {sorted(slowest)[len(slowest) // 2] * 1000:.0f} ms, p95 "
              f"{percentile(slowest, 0.95) * 1000:.0f} ms; process CPU {time.process_time() - cpu:.1f} s", flush=True)

    if not options.skip_csv:
        for label, url in (("the interval range", f"/certificates/download.csv?{options.filter}"),
                           ("every active batch", "/certificates/download.csv")):
            sampler = MemorySampler()
            before = resident_mb()
            sampler.start()
            begun = time.perf_counter()
            rows = sum(chunk.count(b"\n") for chunk in client.get(url).streaming_content) - 1
            seconds = time.perf_counter() - begun
            sampler.stopped.set()
            sampler.join()
            samples = sampler.samples or [resident_mb()]
            print(f"CSV download, {label}: {rows:,} rows in {seconds:.1f} s; resident memory {before:.0f} MB before, "
                  f"{min(samples):.0f}-{max(samples):.0f} MB while streaming", flush=True)

    if options.explain:
        for label, url, headers in (("no filter", "/certificates/", None),
                                    ("no filter, totals", "/certificates/", totals),
                                    ("interval range", filtered, None),
                                    ("interval range, totals", filtered, totals)):
            with CaptureQueriesContext(connection) as captured:
                client.get(url, headers=headers)
            statements = sorted(captured.captured_queries, key=lambda query: -float(query["time"]))[:3]
            for query in statements:
                print(f"\n--- {label}: {float(query['time']) * 1000:.0f} ms: {query['sql'][:300]}")
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    print("\n".join(row[0] for row in cursor.fetchall()))
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


if __name__ == "__main__":
    main()
