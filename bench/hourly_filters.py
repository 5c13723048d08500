"""The Active tab's hourly filters (#33, item 3) on an organization holding a year of hourly batches.

    .venv/bin/python bench/hourly_filters.py [--generators 115] [--hours 8760] [--requests 20]

Seeds the demo registry, then writes, in SQL, `--generators` granular generators of Prairie Wind Energy with
one certificate and one active batch per hour for `--hours` hours from 2025-01-01 (115 x 8,760 = 1,007,400;
no ledger events: verify_ledger is not the point here), and VACUUM ANALYZE. Then, for the Active tab's first
page unfiltered, by a week's interval range, by an hour of day, and both: the server time (median and p95
over `--requests` requests through Django's full stack, in process) and the plan PostgreSQL chose for the
page's batches (EXPLAIN ANALYZE): which indexes it used, and its time; and the time of the tab's totals (the
count and sum of every batch the filter keeps). `--reuse` measures the database a previous run left.
"""

import argparse
import os
import re
import time

from common import describe, setup_django

FILTERS = {
    "no filter": {},
    "interval range, a week": {"interval_from": "2025-06-02T00:00", "interval_to": "2025-06-09T00:00"},
    "hour of day 14": {"hour": "14"},
    "hour of day 14, a week": {"hour": "14", "interval_from": "2025-06-02T00:00", "interval_to": "2025-06-09T00:00"},
}

CERTIFICATES_SQL = """
    INSERT INTO certificates_certificate (quantity, serial_base, fuel_type, state, eligibilities, issued_at,
        generator_id, period, adjustment, emissions_factor_source, original_serial, expires_at)
    SELECT 1000000 + hour, generator.code || '-MN-' || to_char(start AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MI"Z"'),
        'wind', 'MN', '{}', now(), generator.id, tstzrange(start, start + interval '1 hour', '[)'), false, '', '',
        start + interval '2 years 1 hour'
    FROM (SELECT id, code FROM certificates_generator WHERE id = ANY(%s)) AS generator,
         generate_series(0, %s - 1) AS hour,
         LATERAL (SELECT timestamptz '2025-01-01 06:00+00' + hour * interval '1 hour' AS start) AS moment
"""
BATCHES_SQL = """
    INSERT INTO certificates_certificatebatch (serial_start, serial_end, quantity, status, created_at, account_id,
        certificate_id)
    SELECT 1, quantity, quantity, 'active', now(), %s, id FROM certificates_certificate WHERE generator_id = ANY(%s)
"""


def write_hours(organization, options) -> None:
    """The granular generators and their hourly certificates and batches, in SQL."""
    from django.db import connection

    from certificates.models import Generator

    template = Generator.objects.filter(organization=organization, account__isnull=False).first()
    codes = []
    for number in range(options.generators):
        template.pk, template.code, template.granular = None, f"H{number:04d}", True
        template.save()
        codes.append(template.pk)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(CERTIFICATES_SQL, [codes, options.hours])
        cursor.execute(BATCHES_SQL, [template.account_id, codes])
    print(f"wrote {options.generators * options.hours:,} hourly certificates and batches in "
          f"{time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generators", type=int, default=115)
    parser.add_argument("--hours", type=int, default=8760)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="measure the database a previous run wrote, as it is")
    options = parser.parse_args()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_django(database="registry_bench_hourly_filters", fresh=not options.reuse)

    from django.core.management import call_command
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client

    from certificates.models import CertificateBatch
    from certificates.selectors import batches_filtered, batches_totals
    from programs.filters import ProgramBatchFilter
    from registry.models import Organization, User

    if not options.reuse:
        call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))
    organization = Organization.objects.get(name="Prairie Wind Energy")
    if not options.reuse:
        write_hours(organization, options)
    active = CertificateBatch.objects.filter(account__organization=organization, status="active").count()
    print(f"active batches of {organization.name}: {active:,}")

    trader = User.objects.get(email="trader@prairiewind.example")
    client = Client()
    client.force_login(trader)
    for label, query in FILTERS.items():
        url = "/certificates/?" + "&".join(f"{name}={value}" for name, value in query.items())
        client.get(url)  # warm
        samples = []
        for _ in range(options.requests):
            begun = time.perf_counter()
            response = client.get(url)
            samples.append(time.perf_counter() - begun)
            assert response.status_code == 200
        params = QueryDict(mutable=True)
        params.update(query)
        _, queryset, _ = batches_filtered(params, organization, "active", ProgramBatchFilter)
        shown = len(list(queryset[:50]))
        sql, values = queryset[:50].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, values)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        indexes = sorted(set(re.findall(r"Index (?:Only )?Scan (?:Backward )?using (\w+)", plan))
                         | set(re.findall(r"Bitmap Index Scan on (\w+)", plan)))
        execution = re.search(r"Execution Time: ([0-9.]+) ms", plan)[1]
        begun = time.perf_counter()
        totals = batches_totals(queryset)
        counted = (time.perf_counter() - begun) * 1000
        print(f"{label:24} {shown:3} rows shown of {totals['count']:,}; {describe(samples)}; page query {execution} ms "
              f"using {indexes}; totals {counted:.0f} ms")
        if os.environ.get("SHOW_PLANS"):
            print(plan)


if __name__ == "__main__":
    main()
