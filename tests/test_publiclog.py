"""The public log of retirements (#34): each retirement appended once, in order, by the publiclog
consumer of the domain events; signed C2SP checkpoints; the public proofs; the verification page's
place in the log; verify_log."""

import base64
import hashlib
import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from events.services import events_consume
from publiclog import merkle, notes, tree
from publiclog.keys import log_verifier_key, public_key
from publiclog.models import Checkpoint, LogLeaf, LogNode
from publiclog.services import CONSUMER, checkpoint_sign, leaves_append
from retirements.models import Retirement
from retirements.services import retirement_privacy_set
from retirements.statements import record_digest, retirement_record
from transfers.services import TransferLine

from .conftest import retire
from .threads import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def leaf_hashes() -> list[bytes]:
    return [bytes(hashed) for hashed in LogLeaf.objects.order_by("index").values_list("hash", flat=True)]


def b64(text: str) -> bytes:
    return base64.b64decode(text)


def test_each_retirement_is_a_leaf_once_in_order_with_its_records_digest(retiring):
    made = retiring(3)
    assert events_consume(consumer=CONSUMER) == 3
    leaves = list(LogLeaf.objects.order_by("index"))
    assert [leaf.retirement_id for leaf in leaves] == [retirement.pk for retirement in made]
    assert [leaf.index for leaf in leaves] == [0, 1, 2]
    for leaf, retirement in zip(leaves, made, strict=True):
        digest = hashlib.sha256(bytes.fromhex(record_digest(retirement_record(retirement)))).digest()
        assert bytes(leaf.entry).hex() == record_digest(retirement_record(retirement))
        assert bytes(leaf.hash) == hashlib.sha256(b"\x00" + bytes(leaf.entry)).digest() != digest
    # A second run, and the same events appended again, add nothing.
    assert events_consume(consumer=CONSUMER) == 0
    assert leaves_append([(made[0].pk, b"\x00" * 32)]) == []
    assert LogLeaf.objects.count() == 3


def test_the_record_the_log_took_stays_the_public_record_after_a_rename(client, retiring, org):
    [retirement] = retiring(1)
    events_consume(consumer=CONSUMER)
    taken = retirement_record(retirement)
    generator = retirement.transfer.items.get().batch.certificate.generator
    org.name, generator.name = "Prairie Wind Renamed", "Renamed Ridge"
    org.save()
    generator.save()

    answer = client.get(f"/verify/{retirement.reference}.json").json()
    assert answer["record"] == taken
    assert answer["record"]["organization"]["name"] != "Prairie Wind Renamed"
    assert "Renamed Ridge" not in str(answer["record"])
    assert answer["digest"]["value"] == bytes(LogLeaf.objects.get().entry).hex() == record_digest(taken)
    # The database keeps it as it was frozen.
    with pytest.raises(Exception, match="published record is not changed"), transaction.atomic():
        Retirement.objects.filter(pk=retirement.pk).update(record={"reference": retirement.reference})


def test_a_private_retirement_is_still_a_leaf(retiring, org, manager):
    [retirement] = retiring(1)
    retirement_privacy_set(organization=org, retirement=retirement, user=manager, private=True)
    events_consume(consumer=CONSUMER)
    assert LogLeaf.objects.get().retirement_id == retirement.pk


def test_the_database_refuses_to_change_or_delete_a_leaf(retiring):
    retiring(1)
    events_consume(consumer=CONSUMER)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LogLeaf.objects.update(entry=b"\x01" * 32)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        LogLeaf.objects.all().delete()


def test_two_workers_at_once_give_every_retirement_one_index(settings, retiring):
    settings.EVENTS_CLAIM_BATCH = 3
    made = retiring(20)
    assert sum(at_once(lambda: events_consume(consumer=CONSUMER))) == 20
    assert sorted(LogLeaf.objects.values_list("index", flat=True)) == list(range(20))
    assert sorted(LogLeaf.objects.values_list("retirement_id", flat=True)) == sorted(r.pk for r in made)


PAUSE_AT_COMMIT = """
CREATE FUNCTION test_pause_at_commit() RETURNS trigger AS $$
BEGIN
    IF current_setting('test.pause_at_commit', true) = 'on' THEN PERFORM pg_advisory_xact_lock(4242); END IF;
    RETURN NULL;
END; $$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER test_pause_at_commit AFTER INSERT ON events_event DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION test_pause_at_commit();
"""


@pytest.fixture
def paused_commit():
    """A session that sets test.pause_at_commit waits, at its commit (after all its writes), until the
    test releases advisory lock 4242: a transaction that began first and commits last."""
    with connection.cursor() as cursor:
        cursor.execute(PAUSE_AT_COMMIT)
        cursor.execute("SELECT pg_advisory_lock(4242)")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(4242)")
        cursor.execute("DROP TRIGGER test_pause_at_commit ON events_event; DROP FUNCTION test_pause_at_commit()")


def test_a_retirement_that_commits_after_a_later_one_is_not_skipped(org, trader, issue, retirement_account,
                                                                     no_wakeups, paused_commit):
    first, second = issue(1), issue(1)
    made = {}

    def slow_retirement():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET test.pause_at_commit = 'on'")
            made["slow"] = retire(organization=org, user=trader, account=retirement_account,
                                  beneficiary="Twin Cities Library", lines=[TransferLine(first.pk, 1)]).retirement
        finally:
            connections.close_all()
    thread = threading.Thread(target=slow_retirement)
    thread.start()
    with connection.cursor() as cursor:
        for _ in range(300):  # until it waits at its commit
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 "
                           "AND NOT granted")
            if cursor.fetchone()[0]:
                break
            thread.join(0.1)
    fast = retire(organization=org, user=trader, account=retirement_account, beneficiary="Twin Cities Library",
                  lines=[TransferLine(second.pk, 1)]).retirement  # began later, commits first
    events_consume(consumer=CONSUMER)
    assert not LogLeaf.objects.exists()  # held back while the earlier transaction runs
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(4242)")
    thread.join(30)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(4242)")  # for the fixture's unlock
    assert events_consume(consumer=CONSUMER) == 2
    assert list(LogLeaf.objects.order_by("index").values_list("retirement_id", flat=True)) == [
        made["slow"].pk, fast.pk]


@pytest.fixture
def unlinked_leaves():
    """leaves_append with made-up retirement ids (foreign keys not checked): a large tree, fast."""
    def _append(first_id, count):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            leaves_append([(first_id + i, hashlib.sha256(str(first_id + i).encode()).digest())
                           for i in range(count)])
    return _append


def test_the_stored_tree_answers_the_proofs_the_leaves_give(unlinked_leaves):
    appended = 0
    for count in [1, 15, 1, 240, 3, 300, 64, 1]:  # across stored levels 4 and 8, in uneven appends
        unlinked_leaves(10_000 + appended, count)
        appended += count
    hashes = leaf_hashes()
    assert len(hashes) == appended == 625
    assert LogNode.objects.filter(level=8).count() == 2 and LogNode.objects.filter(level=4).count() == 39
    for size in [1, 16, 17, 256, 300, 512, 625]:
        assert tree.tree_root(size) == merkle.root(hashes[:size])
        for index in {0, size // 3, size - 1}:
            assert tree.proof(merkle.inclusion_ranges(index, size)) == merkle.tree_inclusion_proof(hashes[:size], index)
        for old in {1, size // 2 or 1, size}:
            assert tree.proof(merkle.consistency_ranges(old, size)) == merkle.tree_consistency_proof(hashes[:size], old)


def test_a_checkpoint_is_a_c2sp_signed_note_of_the_trees_size_and_root(settings, retiring):
    settings.PUBLICLOG_ORIGIN = "registry.example/log"
    retiring(3)
    events_consume(consumer=CONSUMER)
    checkpoint = checkpoint_sign()
    key = public_key()
    text = notes.note_text_verified(checkpoint.note, name="registry.example/log", public_key=key)
    assert text == f"registry.example/log\n3\n{base64.b64encode(merkle.root(leaf_hashes())).decode()}\n"
    # The signature line: an em dash, the key's name, and base64(key id || Ed25519 signature of the text).
    signature_line = checkpoint.note.split("\n\n")[1]
    assert signature_line.startswith("\u2014 registry.example/log ")
    signed = base64.b64decode(signature_line.split(" ")[2])
    key_id = hashlib.sha256(b"registry.example/log\n\x01" + key).digest()[:4]
    assert signed[:4] == key_id and len(signed) == 68
    assert log_verifier_key() == f"registry.example/log+{key_id.hex()}+{base64.b64encode(b'\x01' + key).decode()}"
    assert notes.verifier_key_parsed(log_verifier_key()) == ("registry.example/log", key)
    # Another key's signature, or a changed text, is refused.
    other = notes.public_key_bytes(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(notes.NoteError):
        notes.note_text_verified(checkpoint.note, name="registry.example/log", public_key=other)
    with pytest.raises(notes.NoteError):
        notes.note_text_verified(checkpoint.note.replace("\n3\n", "\n4\n"), name="registry.example/log",
                                 public_key=key)


def test_a_checkpoint_is_signed_only_as_the_log_grows_and_old_ones_are_kept(retiring):
    retiring(1)
    events_consume(consumer=CONSUMER)
    assert checkpoint_sign().size == 1
    assert checkpoint_sign() is None
    retiring(2)
    events_consume(consumer=CONSUMER)
    assert checkpoint_sign().size == 3
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [3, 1]


def test_the_signing_key_comes_from_the_setting(settings, retiring):
    private = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    settings.PUBLICLOG_SIGNING_KEY = base64.b64encode(
        private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()
    assert public_key() == notes.public_key_bytes(private.public_key())


def api(path, **params):
    return APIClient().get(f"/api/v1/public/log/{path}", params)


def test_the_public_endpoints_give_proofs_an_auditor_checks_with_nothing_of_the_registry(retiring):
    made = retiring(5)
    events_consume(consumer=CONSUMER)
    old = checkpoint_sign()
    made += retiring(4)
    events_consume(consumer=CONSUMER)
    new = checkpoint_sign()
    described = api("").json()
    name, key = notes.verifier_key_parsed(described["verifier_key"])
    latest = api("checkpoint/").json()
    text = notes.note_text_verified(latest["note"], name=name, public_key=key)
    body = notes.checkpoint_parsed(text)
    assert (body.size, body.root_hash) == (9, bytes(new.root_hash))
    # Inclusion of the third retirement, by reference, against the latest checkpoint.
    response = api(f"retirements/{made[2].reference}/inclusion/")
    assert response.status_code == 200 and "max-age" in response["Cache-Control"]
    proof = response.json()
    assert bytes.fromhex(record_digest(retirement_record(made[2]))) == b64(proof["entry"])
    assert merkle.inclusion_verified(leaf=merkle.leaf_hash(b64(proof["entry"])), index=proof["leaf_index"],
                                     size=proof["tree_size"], proof=[b64(p) for p in proof["proof"]],
                                     root_hash=body.root_hash)
    # Consistency from the older checkpoint to the newer.
    consistency = api("consistency/", first=old.size, second=new.size).json()
    assert merkle.consistency_verified(old_size=5, new_size=9, old_root=bytes(old.root_hash), new_root=body.root_hash,
                                       proof=[b64(p) for p in consistency["proof"]])
    # The leaves, from which the root is recomputed.
    leaves = api("leaves/", start=0, end=9).json()["leaves"]
    assert [leaf["reference"] for leaf in leaves] == [r.reference for r in made]
    assert merkle.root([merkle.leaf_hash(b64(leaf["entry"])) for leaf in leaves]) == body.root_hash
    assert api("checkpoint/", size=5).json()["note"] == old.note


@pytest.mark.parametrize(("path", "params", "status", "message"), [
    ("consistency/", {"first": 3, "second": 99}, 404, "between 0 and the log's size"),
    ("consistency/", {"first": "two", "second": 3}, 400, "A whole number"),
    ("consistency/", {"second": 3}, 400, "required"),
    ("leaves/", {"start": 2, "end": 1}, 404, "start < end"),
    ("inclusion/", {"index": 7}, 404, "no leaf 7"),
    ("inclusion/", {}, 400, "required"),
    ("inclusion/", {"index": 0, "tree_size": 9}, 404, "between 0 and the log's size"),
    ("retirements/NX53XXWDKA7CZ0JJC8AD/inclusion/", {}, 404, "No retirement has this reference"),
])
def test_a_request_for_what_the_log_lacks_is_refused_plainly(retiring, path, params, status, message):
    retiring(3)
    events_consume(consumer=CONSUMER)
    checkpoint_sign()
    response = api(path, **params)
    assert response.status_code == status, response.content
    assert message in response.content.decode()


def test_the_endpoints_are_rate_limited_per_address(settings, client, retiring):
    settings.PUBLICLOG_REQUESTS_PER_MINUTE = 2
    assert [api("").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/log/").status_code == 429


def test_the_verification_page_and_its_json_show_the_place_in_the_log_and_the_proof(client, retiring, org,
                                                                                   manager):
    made = retiring(3)
    page = client.get(f"/verify/{made[1].reference}/").content.decode()
    assert "not in the" in page and "public log" in page
    events_consume(consumer=CONSUMER)
    checkpoint = checkpoint_sign()
    page = client.get(f"/verify/{made[1].reference}/").content.decode()
    assert 'In the public log at index <strong id="log-index">1</strong>' in page
    assert checkpoint.note.split("\n")[2] in page and "verify-proof.js" in page
    log = client.get(f"/verify/{made[1].reference}.json").json()["log"]
    assert log["verified"] is True and log["checkpoint"]["size"] == 3
    assert merkle.inclusion_verified(leaf=b64(log["leaf_hash"]), index=1, size=3,
                                     proof=[b64(p) for p in log["proof"]], root_hash=bytes(checkpoint.root_hash))
    retirement_privacy_set(organization=org, retirement=made[1], user=manager, private=True)
    private = client.get(f"/verify/{made[1].reference}.json").json()
    assert private["private"] and private["log"]["leaf_index"] == 1 and "record" not in private


def test_the_auditors_page_publishes_the_origin_and_key(client, settings):
    settings.PUBLICLOG_ORIGIN = "registry.example/log"
    page = client.get("/log/").content.decode()
    assert "registry.example/log" in page and log_verifier_key() in page
    assert client.get("/log/checkpoint").status_code == 404  # none signed yet


def test_verify_log_rederives_the_tree_and_finds_an_altered_leaf(retiring):
    retiring(4)
    events_consume(consumer=CONSUMER)
    checkpoint_sign()
    call_command("verify_log")
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # past the append-only trigger
        cursor.execute("UPDATE publiclog_logleaf SET entry = %s, hash = %s WHERE index = 2",
                       [b"\x07" * 32, merkle.leaf_hash(b"\x07" * 32)])
        cursor.execute("SET session_replication_role = origin")
    with pytest.raises(CommandError):
        call_command("verify_log")
