"""Partial transfers per second through the service layer, against the same work in hand-written
SQL through psycopg as the lower bound (lock, split, insert, and the same rows as the service
writes: ledger events with their snapshots, the domain event), the two interleaved in rounds.

    .venv/bin/python bench/transfer_service.py [--transfers 1000] [--rounds 10]
"""

import argparse
import json
import statistics
import time

from common import backend_cpu, setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10, help="the two paths alternate this many times")
    options = parser.parse_args()
    count = options.transfers
    url = setup_django(fresh=True)

    import psycopg
    from django.db import connection

    from accounts.models import Account
    from certificates.models import SNAPSHOT, CertificateBatch
    from portal.celery import app as celery_app
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, User
    from transfers.services import Destination, TransferLine, transfer_create

    staff = User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
    trader = User.objects.create_user("bench-trader@example.org", "x")
    org = Organization.objects.create(name="Bench Wind")
    Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
    source = Account.objects.create(organization=org, name="Source")
    Seed().scale(org, 2 * count)
    target = Account.objects.create(organization=org, name="Target")
    batches = list(CertificateBatch.objects.filter(account=source, status="active").order_by("pk"))
    # Statistics as autovacuum keeps them on a live database. Without them, the seed's thousands of
    # active batches count as a dozen, and PostgreSQL (plan_cache_mode auto) takes for the split
    # statement a generic plan that scans every active batch (about 2.2 ms a split against 0.44 ms).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    assert len(batches) >= 2 * count, (len(batches), staff)
    service_batches, sql_batches = batches[:count], batches[count:2 * count]
    destination = Destination.internal(target)

    def same_rows(service_batch: int, sql_batch: int) -> None:
        """The bound wrote what the service wrote: the rows of one transfer of each are equal, but
        for their times, ids, serials and quantities, which must be alike (each one named by its
        order of appearance, so that two transfers of different batches, both of an even or both of
        an odd quantity, compare)."""
        namespaces = {"batch": "batch", "parent": "batch", "transfer": "transfer", "subject": "transfer",
                      "certificate": "certificate", "serial_start": "serial", "serial_end": "serial",
                      "quantity": "quantity"}

        def written(batch_id: int) -> list:
            names = {}

            def renamed(value, key=""):
                if isinstance(value, str) and value.startswith("{"):
                    value = json.loads(value)
                if isinstance(value, dict):
                    return {name: renamed(item, name) for name, item in value.items()}
                if isinstance(value, list):
                    return [renamed(item, key) for item in value]
                if key in namespaces and value is not None:
                    return names.setdefault((namespaces[key], value), len(names))
                return value

            with connection.cursor() as cursor:
                cursor.execute("SELECT transfer_id FROM transfers_transferitem WHERE source_batch_id = %s", [batch_id])
                transfer_id = cursor.fetchone()[0]
                renamed({"transfer": transfer_id, "batch": batch_id})
                cursor.execute("SELECT kind, status, organization_id, created_by_id, destination_account_id, "
                               "recipient_organization_id, tracking_system_id, recipient_name, recipient_account_ref, "
                               "notes, draft, decision_note, decided_by_id, mass_upload_id, "
                               "created_at = submitted_at AND submitted_at = decided_at "
                               "FROM transfers_transfer WHERE id = %s", [transfer_id])
                rows = [cursor.fetchall()]
                cursor.execute("SELECT kind, actor_id, organization_id, certificate_id, batch_id, transfer_id, "
                               "account_id, before, after, note FROM ledger_ledgerevent "
                               "WHERE transfer_id = %s OR batch_id = %s ORDER BY id", [transfer_id, batch_id])
                rows.append([renamed(dict(zip(("kind", "actor", "organization", "certificate", "batch", "transfer",
                                               "account", "before", "after", "note"), row, strict=True)))
                             for row in cursor])
                cursor.execute("SELECT kind, organization_id, other_organization_id, subject_id, data "
                               "FROM events_event WHERE subject_id = %s", [transfer_id])
                rows.append([renamed(dict(zip(("kind", "organization", "other", "subject", "data"), row, strict=True)))
                             for row in cursor])
            return rows

        service, bound = written(service_batch), written(sql_batch)
        assert service == bound, f"the bound wrote other rows than the service:\n{service}\n{bound}"

    def snapshot(*values) -> dict:  # a batch as the ledger records it (CertificateBatch.snapshot)
        return dict(zip(SNAPSHOT, values, strict=True))

    def service_round(round_batches) -> float:
        started = time.perf_counter()
        for batch in round_batches:
            transfer_create(organization=org, user=trader, destination=destination,
                            lines=[TransferLine(batch.pk, batch.quantity // 2)])
        return time.perf_counter() - started

    def sql_round(sql, round_batches) -> float:
        """The same rows as the service writes, with the same content: the transfer, the superseded
        batch and its two children, the item, the split's and the transfer's ledger events (each
        batch's snapshot, as CertificateBatch.snapshot() words it) and the transfer's domain event.
        The two events go in the ledger rows' statement, so that the bound pays no round trip for
        them. (Its reads stay plainer than the service's: no role check, no certificate read.)"""
        started = time.perf_counter()
        for batch in round_batches:
            with sql.transaction():
                row = sql.execute(
                    "SELECT id, certificate_id, account_id, serial_start, serial_end, quantity, status, parent_id "
                    "FROM certificates_certificatebatch WHERE id = %s FOR UPDATE", [batch.pk]).fetchone()
                _, certificate_id, account_id, start, end, quantity, status, parent_id = row
                assert status == "active"
                sql.execute("SELECT a.status, o.status FROM accounts_account a JOIN registry_organization o "
                            "ON o.id = a.organization_id WHERE a.id = ANY(%s) FOR SHARE",
                            [[account_id, target.pk]]).fetchall()
                moved = quantity // 2
                transfer_id = sql.execute(
                    "INSERT INTO transfers_transfer (kind, status, organization_id, created_by_id, "
                    "destination_account_id, recipient_name, recipient_account_ref, notes, "
                    "draft, created_at, submitted_at, decided_at, decision_note) VALUES ('internal', 'complete', "
                    "%s, %s, %s, '', '', '', '{}', now(), now(), now(), '') RETURNING id",
                    [org.pk, trader.pk, target.pk]).fetchone()[0]
                sql.execute("UPDATE certificates_certificatebatch SET status = 'superseded' "
                            "WHERE id = %s AND status = 'active'", [batch.pk])
                children = sql.execute(
                    "INSERT INTO certificates_certificatebatch (certificate_id, account_id, serial_start, "
                    "serial_end, quantity, status, parent_id, created_at) VALUES "
                    "(%s, %s, %s, %s, %s, 'active', %s, now()), (%s, %s, %s, %s, %s, 'active', %s, now()) "
                    "RETURNING id",
                    [certificate_id, target.pk, start, start + moved - 1, moved, batch.pk,
                     certificate_id, account_id, start + moved, end, quantity - moved, batch.pk]).fetchall()
                sql.execute("INSERT INTO transfers_transferitem (transfer_id, batch_id, source_batch_id, "
                            "source_account_id) VALUES (%s, %s, %s, %s)",
                            [transfer_id, children[0][0], batch.pk, account_id])
                source = snapshot(batch.pk, certificate_id, account_id, start, end, quantity, "active", parent_id)
                moved_part = snapshot(children[0][0], certificate_id, target.pk, start, start + moved - 1, moved,
                                      "active", batch.pk)
                staying = snapshot(children[1][0], certificate_id, account_id, start + moved, end, quantity - moved,
                                   "active", batch.pk)
                sql.execute(
                    "WITH event AS (INSERT INTO events_event (kind, occurred_at, organization_id, "
                    "other_organization_id, subject_id, data) VALUES ('transfer.submitted', now(), %s, NULL, %s, %s)) "
                    "INSERT INTO ledger_ledgerevent (occurred_at, kind, actor_id, organization_id, certificate_id, "
                    "batch_id, transfer_id, account_id, before, after, note) VALUES "
                    "(now(), 'split', %s, %s, %s, %s, NULL, NULL, %s, %s, ''), "
                    "(now(), 'transfer_initiated', %s, %s, NULL, NULL, %s, %s, %s, %s, '')",
                    [org.pk, transfer_id, json.dumps({"transfer_kind": "internal", "mass_upload_id": None}),
                     trader.pk, org.pk, certificate_id, batch.pk, json.dumps(source),
                     json.dumps({"children": [moved_part, staying]}),
                     trader.pk, org.pk, transfer_id, target.pk, json.dumps({"batches": [source]}),
                     json.dumps({"status": "complete", "batches": [moved_part]})])
        return time.perf_counter() - started

    # The two interleaved, round by round (the order alternating), so that the VM's speed, which
    # drifts by tens of percent within a minute, weighs on both alike.
    size = count // options.rounds
    service_seconds = sql_seconds = service_cpu = sql_cpu = service_server_cpu = sql_server_cpu = 0.0
    ratios = []
    print(f"load average {' '.join(open('/proc/loadavg').read().split()[:3])}")
    connection.ensure_connection()
    with psycopg.connect(url) as sql:
        for index in range(options.rounds):
            mine = service_batches[index * size:(index + 1) * size]
            theirs = sql_batches[index * size:(index + 1) * size]
            for path in ("sql", "service") if index % 2 else ("service", "sql"):
                cpu = time.process_time()
                if path == "service":
                    server = backend_cpu(connection.connection.info.backend_pid)
                    by_service = service_round(mine)
                    service_cpu += time.process_time() - cpu
                    service_server_cpu += backend_cpu(connection.connection.info.backend_pid) - server
                else:
                    server = backend_cpu(sql.info.backend_pid)
                    by_sql = sql_round(sql, theirs)
                    sql_cpu += time.process_time() - cpu
                    sql_server_cpu += backend_cpu(sql.info.backend_pid) - server
            service_seconds += by_service
            sql_seconds += by_sql
            ratios.append(by_service / by_sql)
    print(f"load average {' '.join(open('/proc/loadavg').read().split()[:3])}")
    celery_app.control.purge()  # the benchmark's wake-up tasks are not to be run
    alike = next(batch for batch in sql_batches[:size] if batch.quantity % 2 == service_batches[0].quantity % 2)
    same_rows(service_batches[0].pk, alike.pk)

    done = size * options.rounds
    service_rate, sql_rate = done / service_seconds, done / sql_seconds
    print(f"partial transfers through the services: {done} in {service_seconds:.2f} s = {service_rate:,.0f}/s")
    print(f"same work in hand-written SQL:          {done} in {sql_seconds:.2f} s = {sql_rate:,.0f}/s")
    print(f"ratio (SQL rate / service rate):        {sql_rate / service_rate:.2f}x overall; per round of {size}: "
          f"median {statistics.median(ratios):.2f}x, {min(ratios):.2f}-{max(ratios):.2f}x")
    print(f"this process's CPU a transfer:          service {service_cpu / done * 1000:.2f} ms, "
          f"SQL {sql_cpu / done * 1000:.2f} ms")
    print(f"PostgreSQL's CPU a transfer:            service {service_server_cpu / done * 1000:.2f} ms, "
          f"SQL {sql_server_cpu / done * 1000:.2f} ms (its backend's, from /proc: 10 ms steps)")
    both = (service_cpu + service_server_cpu) / (sql_cpu + sql_server_cpu)
    print(f"CPU ratio, both processes:              {both:.2f}x (less moved by the machine's load than time)")

    from django.core.management import call_command
    call_command("verify_ledger")


if __name__ == "__main__":
    main()
