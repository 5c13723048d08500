"""Registry to registry (#32), end to end between two instances of this project on one machine: registry A
(this process: its live server, its database) and registry B (gunicorn on a database of its own, its own
code and key), each with its own worker (a process running its outbox's registry_messages consumer).

Certificates exported from A arrive at B, are accepted there, and A sees them exported; another export (of
several batches: one import at B) is rejected there and returns at A. On the way, a worker of either side is
killed right after the other side acted (before its claim was done), and B's server is stopped for a while
(the network refused); every export still ends exactly once on both sides, the certificates across both
registries are conserved, verify_ledger is clean on both, and reconciliation finds no difference."""

import datetime
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from certificates.models import CertificateBatch
from imports.models import PeerRegistry
from imports.reconciling import registry_reconcile
from ledger.models import LedgerEvent
from registry.models import TrackingSystem
from transfers.models import Transfer
from utilities.signing_keys import ed25519_new

from .conftest import ROOT, database_url
from .test_imports_answers import export_of
from .test_imports_sending import closed_port
from .test_publiclog_witnesses import client_program

pytestmark = pytest.mark.django_db(transaction=True)
LEASE = datetime.timedelta(minutes=10)  # past EVENTS_LEASE_SECONDS: a dead worker's claims are due again
GONE = ("superseded", "exported", "voided")  # a batch of these holds no certificate of this registry's now


def run_django(env: dict, code: str, *, dies: bool = False) -> str:
    """Run Python in a registry's own Django process (its database and settings): its output."""
    completed = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=180)
    assert completed.returncode == (9 if dies else 0), completed.stderr[-3000:]
    return completed.stdout


WORKER = """
import datetime, os
from django.utils import timezone
import imports.sending as sending
from events.services import events_consume

if {die_after}:
    real, sent = sending.message_send, []

    def send_then_die(peer, body):
        answer = real(peer, body)
        sent.append(body)
        if len(sent) == {die_after}:
            os._exit(9)  # killed right after the other side took the message, before its claim was done
        return answer

    sending.message_send = send_then_die
print(events_consume(consumer="registry_messages", now=timezone.now() + datetime.timedelta(seconds={later})))
"""


def worker(env: dict, *, later: datetime.timedelta = datetime.timedelta(0), die_after: int = 0) -> int | None:
    """One run of a registry's worker on its outbox (`later`: as the clock will read then); with `die_after`,
    killed right after sending that many messages."""
    output = run_django(env, WORKER.format(die_after=die_after, later=later.total_seconds()), dies=bool(die_after))
    return None if die_after else int(output.strip().splitlines()[-1])


class Server:
    """Registry B's web server (gunicorn), which the test stops and starts again (the network refused)."""

    def __init__(self, env: dict, port: int):
        self.env, self.port, self.process = env, port, None

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", "2",
             "--config", "/dev/null"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/imports/inbox/", timeout=2)
            except urllib.error.HTTPError:
                return  # 405: it answers
            except OSError:
                time.sleep(0.1)
        raise AssertionError("Registry B's server did not start.")

    def stop(self):
        self.process.terminate()
        self.process.wait(30)


@pytest.fixture
def registry_b(live_server, settings, no_wakeups):
    """Registry B (code BBB) on its own database (this one's schema), server and key; A (this process, code
    AAA) and B each configured as the other's peer. Yields B's env, its server and its recipient's id."""
    name = connection.settings_dict["NAME"] + "_b"
    url_a = database_url()
    url_b = url_a.replace(f"/{connection.settings_dict['NAME']}", f"/{name}")
    psql, pg_dump = client_program("psql"), client_program("pg_dump")
    subprocess.run([psql, url_a, "-qc", f'DROP DATABASE IF EXISTS "{name}"', "-c", f'CREATE DATABASE "{name}"'],
                   check=True, capture_output=True)
    schema = subprocess.run([pg_dump, "--schema-only", "--no-owner", url_a], check=True, capture_output=True).stdout
    subprocess.run([psql, url_b, "-q", "-v", "ON_ERROR_STOP=1"], input=schema, check=True, capture_output=True)
    key_a, key_b, port = ed25519_new(), ed25519_new(), closed_port()
    settings.REGISTRY_CODE, settings.REGISTRY_NAME, settings.IMPORTS_SIGNING_KEY = "AAA", "Registry A", key_a
    common = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "PRODUCTION": "",
              "EVENTS_LEASE_SECONDS": "300"}
    env_a = {**common, "DATABASE_URL": url_a, "REGISTRY_CODE": "AAA", "REGISTRY_NAME": "Registry A",
             "IMPORTS_SIGNING_KEY": key_a, "SECRET_KEY": "registry a", "SITE_URL": live_server.url}
    env_b = {**common, "DATABASE_URL": url_b, "REGISTRY_CODE": "BBB", "REGISTRY_NAME": "Registry B",
             "IMPORTS_SIGNING_KEY": key_b, "SECRET_KEY": "registry b", "SITE_URL": f"http://127.0.0.1:{port}"}
    public = "from imports.messages import public_key_text; print(public_key_text())"
    system = TrackingSystem.objects.create(code="BBB", name="Registry B")
    PeerRegistry.objects.create(tracking_system=system, url=f"http://127.0.0.1:{port}",
                                public_key=run_django(env_b, public).strip())
    key_a_public = run_django(env_a, public).strip()
    recipient = run_django(env_b, f"""
from imports.models import PeerRegistry
from registry.models import Membership, TrackingSystem
from tests.factories import AccountFactory, OrganizationFactory, UserFactory
system = TrackingSystem.objects.create(code="AAA", name="Registry A")
PeerRegistry.objects.create(tracking_system=system, url="{live_server.url}", public_key="{key_a_public}")
organization = OrganizationFactory(name="Northwoods Utility")
AccountFactory(organization=organization, name="Northwoods active")
Membership.objects.create(user=UserFactory(email="trader@northwoods.example"), organization=organization,
                          role=Membership.Role.TRADER)
print(organization.public_id)
""").strip()
    server = Server(env_b, port)
    server.start()
    try:
        yield {"env": env_b, "env_a": env_a, "server": server, "recipient": recipient,
               "peer": PeerRegistry.objects.get()}
    finally:
        server.stop()
        subprocess.run([psql, url_a, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


B_STATE = """
import json
from django.db.models import Sum
from certificates.models import CertificateBatch
from imports.models import Import, ReceivedMessage
from ledger.models import LedgerEvent
GONE = ("superseded", "exported", "voided")
print(json.dumps({
    "imports": {str(m.export_reference): [m.transfer.status, m.transfer.items.count()]
                for m in ReceivedMessage.objects.filter(type="export").select_related("transfer")},
    "import_records": Import.objects.count(),
    "live": CertificateBatch.objects.exclude(status__in=GONE).aggregate(total=Sum("quantity"))["total"] or 0,
    "decisions": LedgerEvent.objects.filter(kind__in=["transfer_accepted", "transfer_rejected"]).count(),
}))
"""

B_DECIDE = """
from accounts.models import Account
from imports.models import ReceivedMessage
from registry.models import User
from transfers.services import transfer_accept, transfer_reject
incoming = ReceivedMessage.objects.get(type="export", export_reference={reference}).transfer
user = User.objects.get(email="trader@northwoods.example")
organization = incoming.recipient_organization
if "{decision}" == "accept":
    transfer_accept(transfer=incoming, user=user, organization=organization,
                    account=Account.objects.get(organization=organization, name="Northwoods active"))
else:
    transfer_reject(transfer=incoming, user=user, organization=organization, note="Not what we bought")
"""


def b_state(b) -> dict:
    return json.loads(run_django(b["env"], B_STATE).strip().splitlines()[-1])


def a_live() -> int:
    return CertificateBatch.objects.exclude(status__in=GONE).aggregate(total=Sum("quantity"))["total"] or 0


def test_exports_end_exactly_once_on_both_sides_through_killed_workers_and_a_refused_network(
        registry_b, issue, trader, org):
    b, peer = registry_b, registry_b["peer"]
    first, second, third = issue(100), issue(200), issue(60)
    issued = a_live()
    counterparty = type("Recipient", (), {"name": "Northwoods Utility", "public_id": b["recipient"]})
    accepted = export_of(org, trader, counterparty, peer, (first.pk, 30))
    rejected = export_of(org, trader, counterparty, peer, (second.pk, 50), (third.pk, 60))

    # A's worker is killed right after B took the first export.
    worker(b["env_a"], die_after=1)
    assert b_state(b)["imports"] == {str(accepted.pk): ["pending", 1]}
    # B's server stops: the network is refused; A's worker tries again (the dead one's lease ran out) and fails.
    b["server"].stop()
    assert worker(b["env_a"], later=LEASE) == 0
    b["server"].start()
    # Back: the retries, after their backoff, deliver the second; the first is known there already (both done).
    assert worker(b["env_a"], later=datetime.timedelta(hours=3)) == 2
    state = b_state(b)
    assert state["imports"] == {str(accepted.pk): ["pending", 1], str(rejected.pk): ["pending", 2]}
    assert state["import_records"] == 3

    # B's recipient decides; B's worker is killed right after A took the first answer.
    run_django(b["env"], B_DECIDE.format(reference=accepted.pk, decision="accept"))
    run_django(b["env"], B_DECIDE.format(reference=rejected.pk, decision="reject"))
    worker(b["env"], die_after=1)
    worker(b["env"], later=LEASE)
    assert worker(b["env"], later=datetime.timedelta(hours=3)) == 0  # nothing left

    accepted.refresh_from_db()
    rejected.refresh_from_db()
    assert (accepted.status, rejected.status) == (Transfer.Status.COMPLETE, Transfer.Status.REJECTED)
    assert {item.batch.status for item in accepted.items.all()} == {CertificateBatch.Status.EXPORTED}
    assert {item.batch.status for item in rejected.items.all()} == {CertificateBatch.Status.ACTIVE}
    assert LedgerEvent.objects.filter(kind__in=["export_confirmed", "export_rejected"]).count() == 2
    state = b_state(b)
    assert state["imports"] == {str(accepted.pk): ["complete", 1], str(rejected.pk): ["rejected", 2]}
    assert state["decisions"] == 2
    # Conserved: what left A lives at B, and nothing else does.
    assert a_live() + state["live"] == issued and state["live"] == 30
    call_command("verify_ledger")
    run_django(b["env"], "from django.core.management import call_command; call_command('verify_ledger')")
    # Reconciled: neither side sees a difference.
    record = registry_reconcile(peer=peer, grace=datetime.timedelta(0))
    assert (record.compared, record.differences, record.problem) == (2, [], "")
    output = run_django(b["env"], "from django.core.management import call_command; "
                                  "call_command('reconcile_registries', '--grace-minutes', '0')")
    assert "AAA: 2 exports compared, 0 differences" in output
