"""The public log's two verifiers (#34) against the tampering they exist to find: the standalone
verifier (tools/verify_log.py), run as an auditor runs it, a separate process reading only a live
server's public endpoints, and `manage.py verify_log`, reading the database. An altered leaf,
reordered leaves and a forked tree are each found by both."""

import ast
import importlib.util
import json
import subprocess
import sys

import hypothesis
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from hypothesis import strategies as st

from events.services import events_consume
from publiclog import merkle, tree
from publiclog.keys import log_verifier_key, origin, signing_key
from publiclog.models import Checkpoint
from publiclog.notes import CheckpointBody, note_signed
from publiclog.services import CONSUMER, checkpoint_sign
from retirements.services import retirement_privacy_set

from .conftest import VERIFY_LOG

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged(settings, retiring):
    """logged(n) -> n new retirements, taken by the log and checkpointed."""
    settings.PUBLICLOG_REQUESTS_PER_MINUTE = settings.VERIFY_REQUESTS_PER_MINUTE = 10_000

    def _logged(count):
        made = retiring(count)
        events_consume(consumer=CONSUMER)
        checkpoint_sign()
        return made
    return _logged


@pytest.fixture
def auditor(live_server, tmp_path):
    """auditor(*arguments) -> (exit code, output): the standalone verifier in its own process, from an
    empty folder and without the project on its path, with the published verifier key and a state file."""
    def _run(*arguments, key=None):
        completed = subprocess.run(
            [sys.executable, str(VERIFY_LOG), live_server.url, "--key", key or log_verifier_key(),
             "--state", str(tmp_path / "state.json"), *arguments],
            capture_output=True, text=True, timeout=60, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"})
        return completed.returncode, completed.stdout + completed.stderr
    return _run


def tamper(sql: str, params: list) -> None:
    """A change behind the log's back, as a registry's operator with the database could make it."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")  # past the append-only triggers
        cursor.execute(sql, params)
        cursor.execute("SET session_replication_role = origin")


def verify_log_breaches(*arguments) -> str:
    with pytest.raises(CommandError) as refused:
        call_command("verify_log", *arguments, stdout=(out := _Output()))
    return out.text + str(refused.value)


class _Output:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text + "\n"

    def flush(self):
        pass


def test_the_verifier_reads_no_code_of_the_registry():
    imported = set()
    for node in ast.walk(ast.parse(VERIFY_LOG.read_text())):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_it_checks_inclusion_and_consistency_and_keeps_the_newest_checkpoint(logged, auditor, tmp_path, org,
                                                                             manager):
    made = logged(3)
    code, output = auditor("--retirement", made[1].reference)
    assert code == 0, output
    assert f"retirement {made[1].reference}: leaf 1, its record's digest, included" in output
    assert "no earlier checkpoint kept" in output
    assert json.loads((tmp_path / "state.json").read_text())["size"] == 3

    made += logged(18)  # past a stored subtree of 16 leaves
    retirement_privacy_set(organization=org, retirement=made[20], user=manager, private=True)
    code, output = auditor("--retirement", made[0].reference, "--retirement", made[20].reference, "--all-leaves")
    assert code == 0, output
    assert "consistency: the log of 3 leaves checked before is the start of this one" in output
    assert f"retirement {made[20].reference}: leaf 20 (private" in output
    assert "all 21 leaves give the checkpoint's root" in output and output.endswith("OK: every check passed\n")
    kept = json.loads((tmp_path / "state.json").read_text())
    assert kept["size"] == 21 and kept["note"] == Checkpoint.objects.latest().note
    call_command("verify_log", "--checkpoint", str(tmp_path / "state.json"), stdout=_Output())


def test_it_refuses_a_wrong_key_or_an_unknown_reference_plainly(logged, auditor):
    logged(2)
    code, output = auditor(key=log_verifier_key().replace(origin(), "other.example/log"))
    assert code == 2 and "does not match its key id" in output
    code, output = auditor("--retirement", "NX53XXWDKA7CZ0JJC8AD")
    assert code == 2 and "answered 404" in output and "No retirement has this reference" in output


def test_an_altered_leaf_is_found_by_both_verifiers(logged, auditor):
    made = logged(4)
    assert auditor()[0] == 0
    altered = merkle.leaf_hash(b"\x07" * 32)
    tamper("UPDATE publiclog_logleaf SET entry = %s, hash = %s WHERE index = 2", [b"\x07" * 32, altered])
    code, output = auditor("--retirement", made[2].reference)
    assert code == 1
    assert f"retirement {made[2].reference}: its inclusion proof does not lead to the checkpoint's root" in output
    code, output = auditor("--all-leaves")
    assert code == 1 and "the leaves do not give the checkpoint's root" in output
    assert "checkpoint of 4 leaves: its root is not the leaves' root" in verify_log_breaches()


def test_an_altered_leaf_re_signed_is_found_from_its_record(logged, auditor):
    """The registry alters a leaf and signs the new tree afresh: the proofs hold, but the entry is no
    longer the digest of the retirement's record."""
    made = logged(2)
    tamper("DELETE FROM publiclog_checkpoint", [])
    tamper("UPDATE publiclog_logleaf SET entry = %s, hash = %s WHERE index = 1",
           [b"\x07" * 32, merkle.leaf_hash(b"\x07" * 32)])
    checkpoint_sign()
    code, output = auditor("--retirement", made[1].reference)
    assert code == 1 and f"retirement {made[1].reference}: leaf 1 is not the digest of its record" in output


def test_reordered_leaves_are_found_by_both_verifiers(logged, auditor):
    made = logged(5)
    assert auditor()[0] == 0
    # Leaves 1 and 2 swap places, retirement, entry and hash alike.
    tamper("""UPDATE publiclog_logleaf SET retirement_id = -retirement_id WHERE index IN (1, 2)""", [])
    tamper("""UPDATE publiclog_logleaf l SET retirement_id = -o.retirement_id, entry = o.entry, hash = o.hash
              FROM publiclog_logleaf o WHERE l.index IN (1, 2) AND o.index = 3 - l.index""", [])
    code, output = auditor("--retirement", made[1].reference)
    assert code == 1 and "does not lead to the checkpoint's root" in output
    code, output = auditor("--all-leaves")
    assert code == 1 and "the leaves do not give the checkpoint's root" in output
    assert "checkpoint of 5 leaves: its root is not the leaves' root" in verify_log_breaches()


def test_a_forked_tree_is_found_by_both_verifiers(logged, auditor, tmp_path):
    """The auditor kept the checkpoint of 4 leaves; the registry then rewrites leaf 2, drops its old
    checkpoints and signs a tree of 6 leaves: two signed checkpoints that no consistency proof joins."""
    logged(4)
    assert auditor()[0] == 0
    tamper("DELETE FROM publiclog_checkpoint", [])
    tamper("UPDATE publiclog_logleaf SET entry = %s, hash = %s WHERE index = 2",
           [b"\x07" * 32, merkle.leaf_hash(b"\x07" * 32)])
    logged(2)
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [6]
    code, output = auditor()
    assert code == 1 and "does not extend the one of 4 leaves that was checked before" in output
    assert json.loads((tmp_path / "state.json").read_text())["size"] == 4  # the evidence is kept
    call_command("verify_log", stdout=_Output())  # the registry's own copy alone looks sound...
    breaches = verify_log_breaches("--checkpoint", str(tmp_path / "state.json"))  # ...not with the auditor's
    assert "checkpoint of 4 leaves seen elsewhere (#1): its root is not the leaves' root" in breaches


def test_two_signed_checkpoints_of_one_size_are_a_fork(logged, auditor):
    logged(3)
    assert auditor()[0] == 0
    other_root = merkle.root([merkle.leaf_hash(bytes([n]) * 32) for n in range(3)])
    other = note_signed(CheckpointBody(origin=origin(), size=3, root_hash=other_root).text(), name=origin(),
                        private_key=signing_key())
    tamper("UPDATE publiclog_checkpoint SET note = %s, root_hash = %s WHERE size = 3", [other, other_root])
    code, output = auditor()
    assert code == 1 and "two checkpoints of 3 leaves with different roots: the log forked" in output
    assert "checkpoint of 3 leaves: its root is not the leaves' root" in verify_log_breaches()
    assert tree.tree_root(3) != other_root


def test_verify_ledger_runs_verify_log_and_tells_a_lagging_log_from_a_skipped_retirement(retiring):
    made = retiring(2)
    call_command("verify_ledger", stdout=(out := _Output()))  # not consumed yet: the log is behind, not broken
    assert "rules hold, and the public log (verify_log)." in out.text
    call_command("verify_log", stdout=(out := _Output()))
    assert "2 retirements not in the log yet: its consumer has not come to them." in out.text
    events_consume(consumer=CONSUMER)
    tamper("DELETE FROM publiclog_logleaf WHERE index = 1", [])
    with pytest.raises(CommandError, match="1 breach of the ledger rules"):
        call_command("verify_ledger", stdout=(out := _Output()))
    assert (f"the public log (verify_log): retirement {made[1].reference}: the log's consumer passed its event, "
            "yet it is no leaf") in out.text


def _standalone():
    spec = importlib.util.spec_from_file_location("verify_log_standalone", VERIFY_LOG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@hypothesis.settings(max_examples=120, deadline=None)
@hypothesis.given(size=st.integers(1, 300), data=st.data())
def test_the_verifier_s_own_proof_checks_agree_with_the_log_s_over_random_trees(size, data):
    """Its tree arithmetic is its own (it imports nothing of the registry): it must accept every proof the
    log gives and refuse one with a hash changed."""
    verifier = _standalone()
    leaves = [merkle.leaf_hash(index.to_bytes(4, "big")) for index in range(size)]
    root = merkle.root(leaves)
    assert verifier.root_of(leaves) == root
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.tree_inclusion_proof(leaves, index)
    assert verifier.root_from_inclusion(leaves[index], index, size, proof) == root
    old = data.draw(st.integers(0, size))
    consistency = merkle.tree_consistency_proof(leaves, old)
    verifier.check_consistency(old, size, merkle.root(leaves[:old]), root, consistency)  # raises if refused
    if consistency:
        changed = data.draw(st.integers(0, len(consistency) - 1))
        forged = consistency[:changed] + [bytes(32)] + consistency[changed + 1:]
        with pytest.raises(verifier.LogFailed):
            verifier.check_consistency(old, size, merkle.root(leaves[:old]), root, forged)
