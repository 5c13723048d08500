"""A registry of --batches (10,000,000) hourly batches, written fast into a database kept for measuring
reads on it (--database, bench_scale): what issue 33's scale goal reads (bench/scale_reads.py).

Granular (hourly) solar generators of 50 MW, each issued --hours (8,000) consecutive hours from
2025-01-01 00:00 in the registry's zone: one certificate an hour (in Wh), its one active batch (serials
1..Wh) in the owner's issuance account and its issuance ledger event (the batch's snapshot as `after`),
the rows issuance writes (certificates.services.certificates_write), with the values it would give
(serial base `<generator>-<state>-<interval start in UTC>-<suffix>`, expiry two years after the
interval, the generator's emissions factor). The first organization, "Bench Scale Large", holds
--large (1,000,000) of them, the rest are spread over organizations of 25 generators (200,000 batches
each). Each organization has a manager (trader@<n>.scale.example, password "bench"), and the large
one an API key printed at the end (also kept in the database's `bench_scale_key` table).

Written with INSERT ... SELECT from generate_series, a generator at a time, with the three tables'
secondary indexes and constraints (the exclusion constraints, checks and foreign keys) dropped
first and made again at the end, so PostgreSQL builds each index once and checks each constraint
once over the whole table: the data satisfy every one of them, or the run fails there. No domain
event per issuance (bench/scale_reads.py reads none), no transfer or retirement: every batch is
active, the Active tab's worst case.

    .venv/bin/python bench/scale_fill.py [--batches 10000000] [--database bench_scale]
    .venv/bin/python bench/scale_reads.py [--database bench_scale]
"""

import argparse
import datetime
import os
import time
import zoneinfo

from common import setup_django

GENERATORS_PER_ORGANIZATION = 25


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10_000_000)
    parser.add_argument("--large", type=int, default=1_000_000, help="batches of the first organization")
    parser.add_argument("--hours", type=int, default=8_000, help="hours issued per generator")
    parser.add_argument("--database", default="bench_scale")
    options = parser.parse_args()
    if options.batches % options.hours or options.large % options.hours or options.large > options.batches:
        parser.error("--batches and --large must be multiples of --hours, --large at most --batches")
    started, cpu = time.perf_counter(), time.process_time()
    os.environ["ALLOWED_HOSTS"] = "testserver"
    setup_django(options.database, fresh=True, exact=True)

    from django.db import connection

    from certificates.models import Certificate, CertificateBatch
    from ledger.models import LedgerEvent

    generators, key = seed(options)
    tables = [Certificate._meta.db_table, CertificateBatch._meta.db_table, LedgerEvent._meta.db_table]
    with connection.cursor() as cursor:
        kept = constraints_drop(cursor, tables)
        print(f"{len(generators):,} generators in {time.perf_counter() - started:.0f} s; "
              f"{len(kept)} indexes and constraints dropped", flush=True)
        first_id = 1
        for done, (generator_id, organization_id, account_id, code) in enumerate(generators, 1):
            issue_hours(cursor, first_id=first_id, hours=options.hours, generator_id=generator_id,
                        organization_id=organization_id, account_id=account_id, code=code)
            first_id += options.hours
            if done % 50 == 0 or done == len(generators):
                print(f"{first_id - 1:,} batches, {time.perf_counter() - started:.0f} s", flush=True)
        for table in tables:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        filled = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '1GB'")  # this session's index builds only
        for statement in kept:
            begun = time.perf_counter()
            cursor.execute(statement)
            print(f"{time.perf_counter() - begun:6.0f} s  {statement[:150]}", flush=True)
        print(f"indexes and constraints made again in {time.perf_counter() - filled:.0f} s", flush=True)
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    seconds = time.perf_counter() - started
    print(f"{options.database}: {options.batches:,} batches (certificates, batches, ledger events) in {seconds:.0f} s "
          f"({options.batches / seconds:,.0f} a second; this process's CPU {time.process_time() - cpu:.0f} s); "
          f"database {size}")
    print(f"API key of Bench Scale Large: {key}")
    print(f"load average: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


def seed(options) -> tuple[list[tuple[int, int, int, str]], str]:
    """The organizations, their managers, issuance accounts and approved granular generators (through
    the ORM: a few thousand rows), and an API key of the large organization's manager."""
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Account
    from api.models import ApiKey
    from api.services import api_key_create
    from certificates.models import FuelType, Generator
    from registry.models import Membership, Organization, User

    generator_count = options.batches // options.hours
    large = options.large // options.hours
    sizes = [large] + [GENERATORS_PER_ORGANIZATION] * ((generator_count - large) // GENERATORS_PER_ORGANIZATION)
    if remainder := (generator_count - large) % GENERATORS_PER_ORGANIZATION:
        sizes.append(remainder)
    organizations = Organization.objects.bulk_create([
        Organization(name="Bench Scale Large" if index == 0 else f"Bench Scale {index}",
                     contact_email=f"owner@{index}.scale.example") for index in range(len(sizes))])
    accounts = Account.objects.bulk_create([Account(organization=organization, name="Issuance")
                                            for organization in organizations])
    users = [User.objects.create_user(f"trader@{index}.scale.example", "bench") for index in range(len(sizes))]
    Membership.objects.bulk_create([Membership(user=user, organization=organization, role=Membership.Role.MANAGER)
                                    for user, organization in zip(users, organizations, strict=True)])
    generators = Generator.objects.bulk_create([Generator(
        organization=account.organization, account=account, code=f"S{organization_index:03d}{index:03d}",
        name=f"Bench Solar {organization_index}-{index}", fuel_type=FuelType.SOLAR, technology="solar_pv",
        state="MN", capacity_mw=50, granular=True, emissions_factor=41,
        emissions_factor_source="IPCC 2014 lifecycle median", status=Generator.Status.APPROVED,
        reviewed_at=timezone.now(),
    ) for organization_index, (account, size) in enumerate(zip(accounts, sizes, strict=True))
        for index in range(size)], batch_size=2_000)
    _, key = api_key_create(organization=organizations[0], user=users[0], name="scale bench", scope=ApiKey.Scope.READ)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_scale_key (key text)")
        cursor.execute("INSERT INTO bench_scale_key VALUES (%s)", [key])
    return [(generator.pk, generator.organization_id, generator.account_id, generator.code)
            for generator in generators], key


def constraints_drop(cursor, tables: list[str]) -> list[str]:
    """Drop the tables' secondary indexes and their constraints but the primary keys; the statements
    that make them again, in an order that works (indexes, then checks and exclusions, foreign keys last)."""
    cursor.execute("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype FROM pg_constraint
        WHERE conrelid = ANY(%s::regclass[]) AND contype <> 'p'""", [tables])
    constraints = cursor.fetchall()
    cursor.execute("""
        SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
        WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary
          AND indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]))""",
                   [tables, tables])
    indexes = cursor.fetchall()
    for table, name, _, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    order = {"c": 0, "u": 1, "x": 1, "f": 2}
    return ([definition for _, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
               for table, name, definition, kind in sorted(constraints, key=lambda row: order.get(row[3], 1))])


def issue_hours(cursor, *, first_id: int, hours: int, generator_id: int, organization_id: int, account_id: int,
                code: str) -> None:
    """One generator's `hours` hourly certificates, their batches and issuance ledger events, ids from
    `first_id` (a certificate, its batch and its event share one), in three statements."""
    from django.conf import settings

    start = datetime.datetime(2025, 1, 1, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    parameters = {"first": first_id, "last": first_id + hours - 1, "start": start, "generator": generator_id,
                  "code": code, "organization": organization_id, "account": account_id}
    # Wh up to the generator's 50 MW in an hour: never 0 (a reading of 0 Wh issues nothing).
    cursor.execute("""
        INSERT INTO certificates_certificate
            (id, generator_id, period, quantity, serial_base, fuel_type, state, eligibilities, issued_at,
             adjustment, original_serial, expires_at, emissions_factor, emissions_factor_source)
        SELECT n, %(generator)s, tstzrange(hour, hour + interval '1 hour', '[)'),
               (n * 7919) %% 50000000 + 1,
               %(code)s || '-MN-' || to_char(hour AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MI"Z"') || '-'
                   || upper(lpad(to_hex(n %% 16777216), 6, '0')),
               'solar', 'MN', '{}', hour + interval '40 days', false, '',
               hour + interval '1 hour' + interval '2 years', 41, 'IPCC 2014 lifecycle median'
        FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n,
             LATERAL (SELECT %(start)s::timestamptz + (n - %(first)s) * interval '1 hour' AS hour) AS hours
    """, parameters)
    cursor.execute("""
        INSERT INTO certificates_certificatebatch
            (id, certificate_id, account_id, serial_start, serial_end, quantity, status, created_at)
        SELECT id, id, %(account)s, 1, quantity, quantity, 'active', issued_at
        FROM certificates_certificate WHERE id BETWEEN %(first)s AND %(last)s
    """, parameters)
    cursor.execute("""
        INSERT INTO ledger_ledgerevent (id, occurred_at, kind, organization_id, certificate_id, batch_id, account_id,
                                        after, note)
        SELECT id, issued_at, 'issuance', %(organization)s, id, id, %(account)s,
               jsonb_build_object('batch', id, 'certificate', id, 'account', %(account)s, 'serial_start', 1,
                                  'serial_end', quantity, 'quantity', quantity, 'status', 'active', 'parent', null),
               ''
        FROM certificates_certificate WHERE id BETWEEN %(first)s AND %(last)s
    """, parameters)


if __name__ == "__main__":
    main()
