"""Registry to registry end to end (#32): N batches exported from registry A to registry B, both running
this project (two databases, two gunicorn servers), through their outboxes: sent (A's worker, one signed
message per export), imported (B's inbox), accepted (B's recipient, one decision per export), answered (B's
worker) and confirmed (A's inbox: the batches exported). Goal: 10,000 batches in at most 60 s.

    .venv/bin/python bench/imports_peer.py [--batches 10000] [--per-export 100]

A's worker runs in this process, B's in a subprocess; the exports are made beforehand (timed apart)."""

import argparse
import os
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from common import ROOT, setup_django
from wizard_load import cpu_seconds, cpu_spent, gunicorn_start

B_SETUP = """
from imports.models import PeerRegistry
from imports.messages import public_key_text
from accounts.models import Account
from registry.models import Membership, Organization, TrackingSystem, User
system = TrackingSystem.objects.create(code="AAA", name="Registry A")
PeerRegistry.objects.create(tracking_system=system, url="{url_a}", public_key="{key_a}")
organization = Organization.objects.create(name="Northwoods Utility")
Account.objects.create(organization=organization, name="Northwoods active")
Membership.objects.create(user=User.objects.create_user("trader@northwoods.example", "x"), organization=organization,
                          role=Membership.Role.TRADER)
print(organization.public_id, public_key_text())
"""

B_ACCEPT = """
import time
from accounts.models import Account
from registry.models import User
from transfers.models import Transfer
from transfers.services import transfer_accept
user = User.objects.get(email="trader@northwoods.example")
started = time.perf_counter()
for incoming in Transfer.objects.filter(kind="import", status="pending").select_related("recipient_organization"):
    organization = incoming.recipient_organization
    transfer_accept(transfer=incoming, user=user, organization=organization,
                    account=Account.objects.get(organization=organization, name="Northwoods active"))
print(time.perf_counter() - started)
"""

WORKER = """
from events.models import Claim
from events.services import events_consume
while events_consume(consumer="registry_messages") or Claim.objects.filter(consumer="registry_messages").exists():
    pass
"""


def in_registry(env: dict, code: str) -> str:
    completed = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], cwd=ROOT, env=env,
                               capture_output=True, text=True, check=False)
    if completed.returncode:
        raise SystemExit(completed.stderr[-3000:])
    return completed.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=10_000)
    parser.add_argument("--per-export", type=int, default=100, help="batches in one export (one message)")
    options = parser.parse_args()
    from utilities.signing_keys import ed25519_new

    key_a, key_b = ed25519_new(), ed25519_new()
    os.environ.update({"REGISTRY_CODE": "AAA", "REGISTRY_NAME": "Registry A", "IMPORTS_SIGNING_KEY": key_a})
    url_a = setup_django("registry_bench_peer_a", fresh=True)
    import psycopg
    from django.db import connections

    connections.close_all()
    url_b = urlunsplit(urlsplit(url_a)._replace(path=urlsplit(url_a).path.replace("_peer_a", "_peer_b")))
    with psycopg.connect(urlunsplit(urlsplit(url_a)._replace(path="/postgres")), autocommit=True) as admin:
        database_b = urlsplit(url_b).path.strip("/")
        admin.execute(f'DROP DATABASE IF EXISTS "{database_b}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database_b}" TEMPLATE "{urlsplit(url_a).path.strip("/")}"')

    from django.db.models import Sum

    import events.services
    from accounts.models import Account
    from certificates.models import CertificateBatch
    from events.services import events_consume
    from imports.messages import public_key_text
    from imports.models import PeerRegistry
    from portal.management.commands.seed_demo import Command as Seed
    from registry.models import Membership, Organization, TrackingSystem, User
    from transfers.models import Transfer
    from transfers.services import Destination, TransferLine, transfer_create

    events.services._wakeup = lambda name: lambda: None  # the workers here run the outbox themselves
    server_a, port_a = gunicorn_start(url_a, "imports_peer_a", REGISTRY_CODE="AAA", IMPORTS_SIGNING_KEY=key_a)
    server_b, port_b = gunicorn_start(url_b, "imports_peer_b", REGISTRY_CODE="BBB", IMPORTS_SIGNING_KEY=key_b,
                                      REGISTRY_NAME="Registry B")
    env_b = os.environ | {"DATABASE_URL": url_b, "REGISTRY_CODE": "BBB", "REGISTRY_NAME": "Registry B",
                          "IMPORTS_SIGNING_KEY": key_b}
    try:
        recipient, public_b = in_registry(env_b, B_SETUP.format(url_a=f"http://127.0.0.1:{port_a}",
                                                                key_a=public_key_text())).split()
        User.objects.create_user("bench-staff@example.org", "x", is_staff=True)
        trader = User.objects.create_user("bench-trader@example.org", "x")
        org = Organization.objects.create(name="Bench Wind")
        Membership.objects.create(user=trader, organization=org, role=Membership.Role.TRADER)
        Account.objects.create(organization=org, name="Source")
        Seed().scale(org, options.batches)
        org.generators.update(capacity_mw=150)
        system = TrackingSystem.objects.create(code="BBB", name="Registry B")
        PeerRegistry.objects.create(tracking_system=system, url=f"http://127.0.0.1:{port_b}", public_key=public_b)
        batches = list(CertificateBatch.objects.filter(certificate__generator__organization=org, status="active")
                       .order_by("pk").values_list("pk", "quantity")[:options.batches])
        destination = Destination.export(system, "Northwoods Utility", recipient)
        started = time.perf_counter()
        for start in range(0, len(batches), options.per_export):
            chunk = batches[start:start + options.per_export]
            transfer_create(organization=org, user=trader, destination=destination,
                            lines=[TransferLine(pk, quantity) for pk, quantity in chunk])
        made = time.perf_counter() - started
        exports = Transfer.objects.filter(kind="export").count()
        print(f"{len(batches):,} batches in {exports:,} exports made in {made:.1f} s (not counted below)")

        load_before, cpu_before = open("/proc/loadavg").read().strip(), cpu_seconds(server_b)
        cpu_a_before = cpu_seconds(server_a)
        started = time.perf_counter()
        while events_consume(consumer="registry_messages"):
            pass
        sent = time.perf_counter()
        accepting = float(in_registry(env_b, B_ACCEPT))
        accepted = time.perf_counter()
        in_registry(env_b, WORKER)
        answered = time.perf_counter()
        cpu_b, cpu_a = cpu_spent(cpu_before, cpu_seconds(server_b)), cpu_spent(cpu_a_before, cpu_seconds(server_a))
        confirmed = CertificateBatch.objects.filter(status="exported").aggregate(n=Sum("quantity"))["n"] or 0
        done = Transfer.objects.filter(kind="export", status="complete").count()
        print(f"sent and imported: {sent - started:.1f} s; accepted at B: {accepted - sent:.1f} s "
              f"({accepting:.1f} s in its process); answered and confirmed: {answered - accepted:.1f} s")
        print(f"end to end: {answered - started:.1f} s for {len(batches):,} batches ({done:,} of {exports:,} exports "
              f"confirmed, {confirmed:,} certificates exported)")
        print(f"load average before: {load_before}; after: {open('/proc/loadavg').read().strip()}")
        print(f"CPU seconds: B's gunicorn {cpu_b['gunicorn']:.1f}, A's gunicorn {cpu_a['gunicorn']:.1f}, "
              f"this process (A's worker) {cpu_a['client']:.1f}, PostgreSQL {cpu_b['postgres']:.1f}")
        assert done == exports, "not every export was confirmed"
    finally:
        for server in (server_a, server_b):
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
