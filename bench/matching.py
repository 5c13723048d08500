"""Hourly matching (issue 33, item 4): match a month (744 hours) of one site's consumption against the
hourly batches its organization holds, through match_run (the Match button's one transaction: the
candidates' read, the retirement over transfer_write with its locks and ledger events, the readings'
update and the statement). Goal: 744 hours against 100,000 held hourly batches in at most 5 s.

October 2026 in the registry's zone (744 hours, no daylight-saving change in America/Chicago); --generators
(135) granular generators each with a certificate of every hour, one active batch each (135 x 744 =
100,440 batches), Wh from 1 to 5,000,000, seeded with INSERT ... SELECT from generate_series (the
benchmark measures the match, not the seeding). The site's consumption each hour is --share (0.1) of
the Wh held of that hour, so that a match takes that share of the batches, the last of each hour in
part: --share 0.5 retires half of them (some 50,000 lines in one retirement). CPU is printed for the
process and its PostgreSQL backend, comparable on a loaded machine, with the load average.

--quarter-hours records each hour's consumption as four 15-minute readings (a meter read every quarter
hour against hourly certificates: matching sums them per hour). Then the statement's PDF
(matching.statements.statement_pdf: 744 hours, every serial retired) is made and timed; --pdf PATH
keeps it.

    .venv/bin/python bench/matching.py [--generators 135] [--share 0.1] [--quarter-hours] [--pdf PATH]
"""

import argparse
import os
import time

from common import setup_django
from transfer_service import backend_cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generators", type=int, default=135, help="granular generators, a certificate an hour each")
    parser.add_argument("--share", type=float, default=0.1, help="each hour's consumption, as a share of the Wh held")
    parser.add_argument("--quarter-hours", action="store_true", help="consumption as four 15-minute readings an hour")
    parser.add_argument("--pdf", help="where to keep the statement's PDF")
    options = parser.parse_args()
    setup_django("registry_bench_matching", fresh=True)

    from django.db import connection

    from certificates.models import CertificateBatch
    from certificates.periods import ProductionPeriod
    from matching.services import match_run

    month = ProductionPeriod.month(2026, 10)
    started = time.perf_counter()
    organization, user, retirement_account, site, batches = seed(options.generators, options.share, month,
                                                                 quarters=options.quarter_hours)
    print(f"seeded {batches:,} held hourly batches of {month} and 744 hours of consumption "
          f"({options.share:.0%} of each hour's Wh held{', in 15-minute readings' if options.quarter_hours else ''}) "
          f"in {time.perf_counter() - started:.1f} s")

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_before, cpu_before = backend_cpu(backend), time.process_time()
    started = time.perf_counter()
    statement = match_run(organization=organization, user=user, site=site, account=retirement_account)
    seconds = time.perf_counter() - started
    cpu, backend_seconds = time.process_time() - cpu_before, backend_cpu(backend) - backend_before
    retired = CertificateBatch.objects.filter(status=CertificateBatch.Status.RETIRED).count()
    hours = statement.record["hours"]
    print(f"matched {sum(1 for hour in hours if hour['matched_wh'])} of {len(hours)} hours, "
          f"{statement.record['matched_wh']:,} of {statement.record['consumption_wh']:,} Wh, retiring {retired:,} "
          f"batches in one retirement, in {seconds:.2f} s (goal: at most 5 s)")
    print(f"CPU: this process {cpu:.2f} s, its PostgreSQL backend {backend_seconds:.2f} s; "
          f"load average {open('/proc/loadavg').read().split()[:3]}, {os.cpu_count()} CPUs")

    from matching.models import MatchingStatement
    from matching.statements import statement_pdf

    statement = MatchingStatement.objects.select_related("retirement").get(pk=statement.pk)  # as the view reads it
    started, cpu_before = time.perf_counter(), time.process_time()
    pdf = statement_pdf(statement)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_before
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    print(f"statement PDF: {len(hours)} hours, {sum(len(hour['certificates']) for hour in hours):,} serial lines, "
          f"{pages} pages, {len(pdf) / 1024:.0f} KiB in {seconds:.2f} s (CPU {cpu:.2f} s); "
          f"load average {open('/proc/loadavg').read().split()[:3]}")
    if options.pdf:
        with open(options.pdf, "wb") as file:
            file.write(pdf)


def seed(generators: int, share: float, month, *, quarters: bool = False):
    """An organization holding a certificate of every hour of `month` from each of `generators` granular
    generators (one active batch each), a retirement account, a trader, and a site whose consumption each
    hour is `share` of the Wh held of that hour."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Account
    from certificates.models import Certificate, CertificateBatch, FuelType, Generator
    from matching.models import ConsumptionReading, ConsumptionSite
    from registry.models import Membership, Organization, User

    organization = Organization.objects.create(name="Bench Matching Buyer", contact_email="buyer@example.org")
    user = User.objects.create_user("bench-trader@example.org", "x")
    Membership.objects.create(user=user, organization=organization, role=Membership.Role.TRADER)
    account = Account.objects.create(organization=organization, name="Holdings")
    retirement_account = Account.objects.create(organization=organization, name="Matched",
                                                type=Account.Type.RETIREMENT)
    made = Generator.objects.bulk_create([Generator(
        organization=organization, account=account, code=f"H{index:05d}", name=f"Bench Solar {index}",
        fuel_type=FuelType.SOLAR, technology="solar_pv", state="MN", capacity_mw=50, granular=True,
        status=Generator.Status.APPROVED, reviewed_at=timezone.now()) for index in range(generators)])
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {Certificate._meta.db_table} (generator_id, period, quantity, serial_base, fuel_type, state,
                eligibilities, issued_at, adjustment, emissions_factor_source, original_serial, expires_at)
            SELECT g, tstzrange(hour, hour + interval '1 hour', '[)'), (g * 7919 + n * 104729) %% 5000000 + 1,
                   'H' || g || '-MN-' || to_char(hour AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24"00Z"'), 'solar', 'MN',
                   '{{}}', now(), false, '', '', now() + interval '1 year'
            FROM unnest(%(generators)s::bigint[]) AS g,
                 generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 hour', interval '1 hour')
                 WITH ORDINALITY AS hours(hour, n)
        """, {"generators": [generator.pk for generator in made], "start": month.start, "end": month.end})
        cursor.execute(f"""
            INSERT INTO {CertificateBatch._meta.db_table} (certificate_id, account_id, serial_start, serial_end,
                quantity, status, created_at)
            SELECT id, %(account)s, 1, quantity, quantity, 'active', now() FROM {Certificate._meta.db_table}
        """, {"account": account.pk})
        batches = cursor.rowcount
        site = ConsumptionSite.objects.create(organization=organization, code="METER-1", name="Bench plant",
                                              created_by=user)
        cursor.execute(f"""
            INSERT INTO {ConsumptionReading._meta.db_table} (site_id, period, wh, matched_wh, submitted_by_id,
                submitted_at)
            SELECT %(site)s, tstzrange(lower(period) + q * interval '15 minutes',
                                       lower(period) + (q + 1) * interval '15 minutes', '[)'),
                   floor(sum(quantity) * %(share)s / 4)::bigint, 0, %(user)s, now()
            FROM {Certificate._meta.db_table}, generate_series(0, 3) AS q WHERE %(quarters)s GROUP BY period, q
            UNION ALL
            SELECT %(site)s, period, floor(sum(quantity) * %(share)s)::bigint, 0, %(user)s, now()
            FROM {Certificate._meta.db_table} WHERE NOT %(quarters)s GROUP BY period
        """, {"site": site.pk, "share": share, "user": user.pk, "quarters": quarters})
        cursor.execute("ANALYZE")
    return organization, user, retirement_account, site, batches


if __name__ == "__main__":
    main()
