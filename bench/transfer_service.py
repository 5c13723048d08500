"""Partial transfers per second through the service layer, against the same work in hand-written
SQL through psycopg (lock, split, insert, ledger rows) as the lower bound, the two interleaved in
rounds.

    .venv/bin/python bench/transfer_service.py [--transfers 1000] [--rounds 10]
"""

import argparse
import json
import statistics
import time

from common import setup_django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10, help="the two paths alternate this many times")
    options = parser.parse_args()
    count = options.transfers
    url = setup_django(fresh=True)

    import psycopg

    from accounts.models import Account
    from certificates.models import CertificateBatch
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
    assert len(batches) >= 2 * count, (len(batches), staff)
    service_batches, sql_batches = batches[:count], batches[count:2 * count]
    destination = Destination.internal(target)

    def service_round(round_batches) -> float:
        started = time.perf_counter()
        for batch in round_batches:
            transfer_create(organization=org, user=trader, destination=destination,
                            lines=[TransferLine(batch.pk, batch.quantity // 2)])
        return time.perf_counter() - started

    def sql_round(sql, round_batches) -> float:
        started = time.perf_counter()
        for batch in round_batches:
            with sql.transaction():
                row = sql.execute(
                    "SELECT id, certificate_id, account_id, serial_start, serial_end, quantity, status "
                    "FROM certificates_certificatebatch WHERE id = %s FOR UPDATE", [batch.pk]).fetchone()
                _, certificate_id, account_id, start, end, quantity, status = row
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
                sql.execute(
                    "INSERT INTO ledger_ledgerevent (occurred_at, kind, actor_id, organization_id, batch_id, "
                    "transfer_id, before, after, note) VALUES (now(), 'split', %s, %s, %s, NULL, %s, %s, ''), "
                    "(now(), 'transfer_initiated', %s, %s, NULL, %s, %s, %s, '')",
                    [trader.pk, org.pk, batch.pk, json.dumps({"batch": batch.pk}),
                     json.dumps({"children": [c[0] for c in children]}),
                     trader.pk, org.pk, transfer_id, json.dumps({"batches": [batch.pk]}),
                     json.dumps({"batches": [children[0][0]]})])
        return time.perf_counter() - started

    # The two interleaved, round by round (the order alternating), so that the VM's speed, which
    # drifts by tens of percent within a minute, weighs on both alike.
    size = count // options.rounds
    service_seconds = sql_seconds = 0.0
    ratios = []
    with psycopg.connect(url) as sql:
        for index in range(options.rounds):
            mine = service_batches[index * size:(index + 1) * size]
            theirs = sql_batches[index * size:(index + 1) * size]
            if index % 2:
                by_sql = sql_round(sql, theirs)
                by_service = service_round(mine)
            else:
                by_service = service_round(mine)
                by_sql = sql_round(sql, theirs)
            service_seconds += by_service
            sql_seconds += by_sql
            ratios.append(by_service / by_sql)
    celery_app.control.purge()  # the benchmark's wake-up tasks are not to be run

    done = size * options.rounds
    service_rate, sql_rate = done / service_seconds, done / sql_seconds
    print(f"partial transfers through the services: {done} in {service_seconds:.2f} s = {service_rate:,.0f}/s")
    print(f"same work in hand-written SQL:          {done} in {sql_seconds:.2f} s = {sql_rate:,.0f}/s")
    print(f"ratio (SQL rate / service rate):        {sql_rate / service_rate:.2f}x overall; per round of {size}: "
          f"median {statistics.median(ratios):.2f}x, {min(ratios):.2f}-{max(ratios):.2f}x")

    from django.core.management import call_command
    call_command("verify_ledger")


if __name__ == "__main__":
    main()
