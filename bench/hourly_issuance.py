"""Issue one month of hourly data for --devices (50) granular generators, end to end through issuance_run
(the admin's "Issue the selected months", the same run as the monthly generators'), then verify_ledger.

January 2025 in the registry's zone (744 hours, no daylight-saving change in America/Chicago): one
interval reading an hour per generator, seeded with one INSERT ... SELECT from generate_series (the
benchmark measures the issuance, not the seeding), Wh up to the generator's 50 MW, one reading in 100
of 0 Wh (no certificate). --devices 1000 is issue 33's 744,000 certificates (goal: at most 60 s,
memory flat). The process's resident memory is sampled every 0.2 s during the run; CPU is printed for
the process (its threads) and for PostgreSQL (every process of the server: the run spreads its transactions over
ISSUANCE_CONNECTIONS connections, each a backend of its own; on a shared machine others' queries count too),
comparable on a loaded machine. `--connections 1` issues one transaction after another, as before.

    .venv/bin/python bench/hourly_issuance.py [--devices 50]
"""

import argparse
import os
import runpy
import threading
import time
from pathlib import Path

from common import database_cpu, setup_django

GENERATORS_PER_ORGANIZATION = 100


def resident_mb() -> float:
    """This process's resident memory now, in MB (from /proc)."""
    return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class MemorySampler(threading.Thread):
    """The resident memory every 0.2 s while it runs: the lowest and highest seen."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(0.2):
            self.samples.append(resident_mb())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=50, help="granular generators")
    parser.add_argument("--connections", type=int, help="ISSUANCE_CONNECTIONS (default: the setting's, 2)")
    options = parser.parse_args()
    if options.connections:
        os.environ["ISSUANCE_CONNECTIONS"] = str(options.connections)
    setup_django("registry_bench_hourly", fresh=True)
    # The run is registry staff's admin action: a gunicorn worker's request, with the worker's collector
    # settings (gunicorn.conf.py), which spare it a cyclic collection every few thousand of its tuples.
    runpy.run_path(str(Path(__file__).resolve().parent.parent / "gunicorn.conf.py"))["post_worker_init"](None)

    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count, Sum

    from certificates.models import Certificate
    from certificates.periods import ProductionPeriod
    from issuance.models import GenerationReport
    from issuance.services import issuance_run
    from portal.celery import app as celery_app
    from registry.models import User

    month = ProductionPeriod.month(2025, 1)
    started = time.perf_counter()
    staff = User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    readings = seed(options.devices, staff=staff, month=month)
    print(f"seeded {options.devices:,} granular generators with {readings:,} hourly readings of "
          f"{month} in {time.perf_counter() - started:.1f} s")

    reports = GenerationReport.objects.filter(month=month.first_day, status=GenerationReport.Status.SUBMITTED)
    sampler = MemorySampler()
    wal_before = wal_written()
    before_mb, backend_before, cpu_before = resident_mb(), database_cpu(), time.process_time()
    sampler.start()
    started = time.perf_counter()
    run = issuance_run(user=staff, reports=reports)
    seconds = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    cpu, backend_seconds = time.process_time() - cpu_before, database_cpu() - backend_before
    wal = {key: value - wal_before[key] for key, value in wal_written().items() if isinstance(value, int)}
    celery_app.control.purge()  # nothing of the benchmark's is to be sent
    issued = Certificate.objects.aggregate(count=Count("pk"), wh=Sum("quantity"))
    print(f"issued {len(run.granular):,} generator-months: {issued['count']:,} hourly certificates "
          f"({issued['wh']:,} Wh; {len(run.skipped)} months left) in {seconds:.1f} s = "
          f"{issued['count'] / seconds:,.0f} certificates/s (goal: 744,000 in at most 60 s)")
    print(f"CPU: this process {cpu:.1f} s, PostgreSQL {backend_seconds:.1f} s "
          f"({settings.ISSUANCE_CONNECTIONS} connections)")
    print(f"WAL: {wal['bytes'] / 2**20:,.0f} MB in {wal['records']:,} records, {wal['full_pages']:,} full-page "
          f"images; {wal['checkpoints']} checkpoints (max_wal_size {wal_before['max_wal_size']}, shared_buffers "
          f"{wal_before['shared_buffers']})")
    samples = sampler.samples or [resident_mb()]
    print(f"resident memory: {before_mb:.0f} MB before, {min(samples):.0f}-{max(samples):.0f} MB during the run "
          f"({len(samples)} samples), {resident_mb():.0f} MB after")
    started = time.perf_counter()
    call_command("verify_ledger")
    print(f"verify_ledger clean in {time.perf_counter() - started:.1f} s")


def wal_written() -> dict:
    """The server's WAL written so far (pg_stat_wal) and its checkpoints (pg_stat_bgwriter): how much of the
    database's work is writing the log, and how often a checkpoint made the next touch of a page log it whole."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT wal_bytes::bigint, wal_records, wal_fpi FROM pg_stat_wal")
        written = dict(zip(["bytes", "records", "full_pages"], cursor.fetchone(), strict=True))
        cursor.execute("SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter")
        written["checkpoints"] = cursor.fetchone()[0]
        cursor.execute("SELECT current_setting('max_wal_size'), current_setting('shared_buffers')")
        written["max_wal_size"], written["shared_buffers"] = cursor.fetchone()
    return written


def seed(count: int, *, staff, month) -> int:
    """`count` approved granular generators of 50 MW in organizations of 100, each with an hourly reading
    for every hour of `month` and the month's report: what interval uploads leave."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Account
    from certificates.models import FuelType, Generator
    from issuance.intervals import wh_as_mwh
    from issuance.models import GenerationReport, IntervalReading
    from registry.models import Organization

    organizations = Organization.objects.bulk_create([
        Organization(name=f"Bench Hourly {index}", contact_email=f"owner{index}@example.org")
        for index in range((count + GENERATORS_PER_ORGANIZATION - 1) // GENERATORS_PER_ORGANIZATION)])
    accounts = Account.objects.bulk_create([Account(organization=organization, name="Issuance")
                                            for organization in organizations])
    generators = Generator.objects.bulk_create([Generator(
        organization=accounts[index // GENERATORS_PER_ORGANIZATION].organization,
        account=accounts[index // GENERATORS_PER_ORGANIZATION], code=f"H{index:05d}", name=f"Bench Solar {index}",
        fuel_type=FuelType.SOLAR, technology="solar_pv", state="MN", capacity_mw=50, granular=True,
        emissions_factor=41, emissions_factor_source="IPCC 2014 lifecycle median",
        status=Generator.Status.APPROVED, reviewed_at=timezone.now(),
    ) for index in range(count)], batch_size=2_000)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {IntervalReading._meta.db_table} (generator_id, period, wh, submitted_by_id, created_at)
            SELECT g, tstzrange(hour, hour + interval '1 hour', '[)'),
                   CASE WHEN (g + n) %% 100 = 0 THEN 0 ELSE (g * 7919 + n * 104729) %% 50000000 + 1 END,
                   %(staff)s, now()
            FROM unnest(%(generators)s::bigint[]) AS g,
                 generate_series(%(start)s::timestamptz, %(end)s::timestamptz - interval '1 hour', interval '1 hour')
                 WITH ORDINALITY AS hours(hour, n)
        """, {"staff": staff.pk, "generators": [generator.pk for generator in generators],
              "start": month.start, "end": month.end})
        readings = cursor.rowcount
        cursor.execute(f"SELECT generator_id, sum(wh) FROM {IntervalReading._meta.db_table} GROUP BY generator_id")
        totals = dict(cursor.fetchall())
    GenerationReport.objects.bulk_create([GenerationReport(
        generator=generator, month=month.first_day, mwh=wh_as_mwh(int(totals[generator.pk])), submitted_by=staff,
    ) for generator in generators], batch_size=2_000)
    return readings


if __name__ == "__main__":
    main()
