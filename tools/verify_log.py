#!/usr/bin/env python3
"""Check a registry's public log of retirements from its public endpoints alone.

One file, for an auditor to read and run: Python 3.10+'s standard library and, for Ed25519, the
`cryptography` package (pip install cryptography). It imports nothing of the registry's code: its
tree arithmetic is written here from RFC 9162 (sections 2.1.3.2 and 2.1.4.2), and its note parsing
from C2SP signed-note and tlog-checkpoint.

    python3 verify_log.py https://registry.example --key '<verifier key from /log/>' \\
        --state log-state.json --retirement NX53XXWDKA7CZ0JJC8AD

What it checks, in order:
  1. the latest checkpoint (/log/checkpoint) is signed by the key given (its name is the log's
     origin), and, for each --witness key, cosigned by that witness (C2SP tlog-cosignature);
  2. consistency: the log of the checkpoint kept in the state file (from the last run) is a prefix of
     the latest (RFC 9162 consistency proof from /api/v1/public/log/consistency/): no leaf changed,
     moved or vanished since;
  3. inclusion: each --retirement (its public reference, as its verification page names it) is a leaf
     of the latest checkpoint's tree, and the leaf's entry is the SHA-256 of its record in canonical
     form (/verify/<reference>.json; a private retirement shows no record, so only the leaf is checked);
  4. with --all-leaves, every leaf (/api/v1/public/log/leaves/) and the root they give.
Only when every check passes does it write the latest checkpoint to the state file.

Exit codes: 0 every check passed; 1 the log failed a check (a bad signature, a proof that does not
verify, a fork or a shrunk log, an entry that is not its record's digest); 2 it could not check
(bad arguments, the server unreachable or answering an error, an unknown reference).
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

PASSED, FAILED, UNCHECKED = 0, 1, 2
LEAVES_PER_REQUEST = 1000


class LogFailed(Exception):
    """The log failed a check: evidence against it."""


class Unchecked(Exception):
    """Something kept the check from being made (network, arguments, an unknown reference)."""


# RFC 9162 2.1: hashes ------------------------------------------------------------------------------

def hash_leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_of(leaf_hashes: list) -> bytes:
    """MTH over the given leaf hashes: pair neighbours level by level, an odd last one rising alone."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root_from_inclusion(leaf: bytes, index: int, size: int, path: list) -> bytes:
    """RFC 9162 2.1.3.2: the root that `path` leads to from `leaf` at `index` of `size` leaves."""
    if not 0 <= index < size:
        raise LogFailed(f"leaf index {index} is outside a tree of {size} leaves")
    node, last, result = index, size - 1, leaf
    for sibling in path:
        if last == 0:
            raise LogFailed("the inclusion proof is longer than the tree is deep")
        if node % 2 == 1 or node == last:
            result = hash_children(sibling, result)
            while node % 2 == 0 and node != 0:
                node, last = node // 2, last // 2
        else:
            result = hash_children(result, sibling)
        node, last = node // 2, last // 2
    if last != 0:
        raise LogFailed("the inclusion proof is shorter than the tree is deep")
    return result


def check_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: list) -> None:
    """RFC 9162 2.1.4.2: raise LogFailed unless `path` proves the tree of `first` leaves with
    `first_root` is the start of the tree of `second` leaves with `second_root`."""
    if first > second:
        raise LogFailed(f"the log shrank from {first} leaves to {second}")
    if first == second:
        if path or first_root != second_root:
            raise LogFailed(f"two checkpoints of {first} leaves with different roots: the log forked")
        return
    if first == 0:
        return  # the empty tree starts every tree
    if first & (first - 1) == 0:
        path = [first_root] + list(path)
    if not path:
        raise LogFailed("the consistency proof is empty")
    node, last = first - 1, second - 1
    while node % 2 == 1:
        node, last = node // 2, last // 2
    old, new = path[0], path[0]
    for sibling in path[1:]:
        if last == 0:
            raise LogFailed("the consistency proof is too long")
        if node % 2 == 1 or node == last:
            old, new = hash_children(sibling, old), hash_children(sibling, new)
            while node % 2 == 0 and node != 0:
                node, last = node // 2, last // 2
        else:
            new = hash_children(new, sibling)
        node, last = node // 2, last // 2
    if last != 0 or old != first_root or new != second_root:
        raise LogFailed(f"the log of {second} leaves does not extend the one of {first} leaves that was "
                        "checked before: it forked or was rewritten")


# C2SP signed-note, tlog-checkpoint, tlog-cosignature ---------------------------------------------

def parse_verifier_key(text: str) -> tuple:
    """A signed-note verifier key, name+keyid+base64(type || key), as (name, key type, raw key)."""
    try:
        name, key_hash, typed = text.strip().split("+", 2)  # the base64 may hold "+"
        raw = base64.b64decode(typed, validate=True)
    except (ValueError, binascii.Error):
        raise Unchecked(f"not a verifier key (name+keyid+base64 expected): {text!r}") from None
    if raw[:1] not in (b"\x01", b"\x04") or len(raw) != 33:
        raise Unchecked(f"the verifier key of {name} is not an Ed25519 key (type 0x01 or 0x04)")
    if hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() != key_hash:
        raise Unchecked(f"the verifier key of {name} does not match its key id")
    return name, raw[:1], raw[1:]


def note_parts(note: str) -> tuple:
    """The note's text (with its final newline) and its signatures as (name, bytes) pairs."""
    text, sep, lines = note.rpartition("\n\n")
    if not sep or not lines.endswith("\n"):
        raise LogFailed("the checkpoint is not a signed note (no signature lines after an empty line)")
    signatures = []
    for line in lines[:-1].split("\n"):
        name, _, encoded = line.removeprefix("\u2014 ").partition(" ")
        if not line.startswith("\u2014 ") or not name:
            raise LogFailed(f"a malformed signature line: {line!r}")
        try:
            signatures.append((name, base64.b64decode(encoded, validate=True)))
        except binascii.Error:
            raise LogFailed(f"a signature of {name} is not base64") from None
    return text + "\n", signatures


def ed25519_verified(public_key: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def check_signed(note: str, verifier_key: tuple) -> str:
    """The note's text if the log's key (type 0x01) signed it; LogFailed otherwise."""
    name, key_type, public_key = verifier_key
    text, signatures = note_parts(note)
    key_id = hashlib.sha256(name.encode() + b"\n" + key_type + public_key).digest()[:4]
    for signer, signed in signatures:
        if signer == name and signed[:4] == key_id:
            if len(signed) == 68 and ed25519_verified(public_key, signed[4:], text.encode()):
                return text
            raise LogFailed(f"the checkpoint's signature by {name} does not verify")
    raise LogFailed(f"the checkpoint carries no signature by {name}")


def check_cosigned(note: str, witness_key: tuple) -> int:
    """The time a witness (key type 0x04) cosigned the checkpoint at; LogFailed without a valid
    cosignature. The witness signs "cosignature/v1", the time, then the checkpoint's text."""
    name, key_type, public_key = witness_key
    text, signatures = note_parts(note)
    key_id = hashlib.sha256(name.encode() + b"\n" + key_type + public_key).digest()[:4]
    for signer, signed in signatures:
        if signer == name and signed[:4] == key_id and len(signed) == 76:
            (timestamp,) = struct.unpack(">Q", signed[4:12])
            message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
            if ed25519_verified(public_key, signed[12:], message):
                return timestamp
            raise LogFailed(f"the cosignature of witness {name} does not verify")
    raise LogFailed(f"the checkpoint carries no cosignature by witness {name}")


def parse_checkpoint(text: str, origin: str) -> dict:
    lines = text.split("\n")
    try:
        size, root_hash = int(lines[1]), base64.b64decode(lines[2], validate=True)
    except (IndexError, ValueError, binascii.Error):
        raise LogFailed("the checkpoint is not origin, size and base64 root hash, one a line") from None
    if lines[0] != origin:
        raise LogFailed(f"the checkpoint is of origin {lines[0]!r}, not {origin!r}")
    if size < 0 or lines[1] != str(size) or len(root_hash) != 32:
        raise LogFailed("the checkpoint's size or root hash is malformed")
    return {"origin": origin, "size": size, "root_hash": root_hash}


# The registry's public endpoints -------------------------------------------------------------------

class Registry:
    def __init__(self, base_url: str, timeout: float):
        self.base_url, self.timeout = base_url.rstrip("/"), timeout

    def get(self, path: str, **params) -> bytes:
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:300]
            raise Unchecked(f"GET {url} answered {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            raise Unchecked(f"GET {url} failed: {error}") from None

    def json(self, path: str, **params) -> dict:
        try:
            return json.loads(self.get(path, **params))
        except json.JSONDecodeError:
            raise Unchecked(f"{path} did not answer JSON") from None


def hashes(values: list) -> list:
    try:
        return [base64.b64decode(value, validate=True) for value in values]
    except (binascii.Error, TypeError):
        raise LogFailed("a proof holds a hash that is not base64") from None


def check_retirement(registry: Registry, reference: str, checkpoint: dict) -> str:
    quoted = urllib.parse.quote(reference, safe="")
    proof = registry.json(f"/api/v1/public/log/retirements/{quoted}/inclusion/", tree_size=checkpoint["size"])
    entry = base64.b64decode(proof["entry"])
    root = root_from_inclusion(hash_leaf(entry), proof["leaf_index"], checkpoint["size"], hashes(proof["proof"]))
    if root != checkpoint["root_hash"]:
        raise LogFailed(f"retirement {reference}: its inclusion proof does not lead to the checkpoint's root")
    verification = registry.json(f"/verify/{quoted}.json")
    if verification.get("record") is None:
        return f"retirement {reference}: leaf {proof['leaf_index']} (private: its record is not public)"
    canonical = json.dumps(verification["record"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if hashlib.sha256(canonical.encode()).digest() != entry:
        raise LogFailed(f"retirement {reference}: leaf {proof['leaf_index']} is not the digest of its record as "
                        "the registry shows it now (the record changed after the log took it)")
    return f"retirement {reference}: leaf {proof['leaf_index']}, its record's digest, included"


def check_all_leaves(registry: Registry, checkpoint: dict) -> str:
    leaf_hashes = []
    while len(leaf_hashes) < checkpoint["size"]:
        page = registry.json("/api/v1/public/log/leaves/", start=len(leaf_hashes),
                             end=min(checkpoint["size"], len(leaf_hashes) + LEAVES_PER_REQUEST))
        for leaf in page["leaves"]:
            if leaf["index"] != len(leaf_hashes):
                raise LogFailed(f"the leaves jump from {len(leaf_hashes) - 1} to {leaf['index']}")
            leaf_hashes.append(hash_leaf(base64.b64decode(leaf["entry"])))
        if not page["leaves"]:
            raise LogFailed(f"the log serves {len(leaf_hashes)} leaves, fewer than its checkpoint's")
    if root_of(leaf_hashes) != checkpoint["root_hash"]:
        raise LogFailed("the leaves do not give the checkpoint's root: a leaf was changed, moved or removed")
    return f"all {checkpoint['size']} leaves give the checkpoint's root"


def read_state(path: str | None, origin: str) -> dict | None:
    if not path or not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            state = json.load(file)
        kept = {"origin": state["origin"], "size": int(state["size"]),
                "root_hash": base64.b64decode(state["root_hash"], validate=True)}
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        raise Unchecked(f"the state file {path} is not one this verifier wrote") from None
    if kept["origin"] != origin:
        raise Unchecked(f"the state file {path} is of the log {kept['origin']!r}, not {origin!r}")
    return kept


def write_state(path: str, checkpoint: dict, note: str) -> None:
    temporary = path + ".new"
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump({"origin": checkpoint["origin"], "size": checkpoint["size"],
                   "root_hash": base64.b64encode(checkpoint["root_hash"]).decode(), "note": note}, file, indent=1)
    os.replace(temporary, path)  # a crash never leaves half a state


def verify(arguments: argparse.Namespace, say) -> None:
    key = parse_verifier_key(arguments.key)
    origin = key[0]
    if arguments.origin and arguments.origin != origin:
        raise Unchecked(f"the key is named {origin!r}, but the origin given is {arguments.origin!r}")
    witnesses = [parse_verifier_key(witness) for witness in arguments.witness]
    registry = Registry(arguments.base_url, arguments.timeout)
    kept = read_state(arguments.state, origin)

    note = registry.get("/log/checkpoint").decode("utf-8")
    checkpoint = parse_checkpoint(check_signed(note, key), origin)
    say(f"checkpoint: {checkpoint['size']} leaves, root {base64.b64encode(checkpoint['root_hash']).decode()}, "
        f"signed by {origin}")
    for witness in witnesses:
        check_cosigned(note, witness)
        say(f"cosigned by witness {witness[0]}")

    if kept is None:
        say("consistency: no earlier checkpoint kept" + (" (this one will be)" if arguments.state else ""))
    else:
        proof = [] if kept["size"] in (0, checkpoint["size"]) or kept["size"] > checkpoint["size"] else hashes(
            registry.json("/api/v1/public/log/consistency/", first=kept["size"], second=checkpoint["size"])["proof"])
        check_consistency(kept["size"], checkpoint["size"], kept["root_hash"], checkpoint["root_hash"], proof)
        say(f"consistency: the log of {kept['size']} leaves checked before is the start of this one")

    for reference in arguments.retirement:
        say(check_retirement(registry, reference, checkpoint))
    if arguments.all_leaves:
        say(check_all_leaves(registry, checkpoint))
    if arguments.state:
        write_state(arguments.state, checkpoint, note)


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Exit codes: 0 every check passed, 1 the log failed a check, "
                                            "2 the check could not be made.")
    parser.add_argument("base_url", help="the registry's address, e.g. https://registry.example")
    parser.add_argument("--key", required=True, help="the log's verifier key, as its /log/ page publishes it")
    parser.add_argument("--origin", help="the log's origin, as published (checked against the key's name)")
    parser.add_argument("--state", help="a file keeping the last checkpoint checked (read, then replaced)")
    parser.add_argument("--retirement", action="append", default=[], metavar="REFERENCE",
                        help="a retirement's public reference whose inclusion to check (repeatable)")
    parser.add_argument("--witness", action="append", default=[], metavar="KEY",
                        help="a witness's verifier key whose cosignature the checkpoint must carry (repeatable)")
    parser.add_argument("--all-leaves", action="store_true", help="also fetch every leaf and recompute the root")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    arguments = parser.parse_args(argv)
    try:
        verify(arguments, say=print)
    except LogFailed as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return FAILED
    except Unchecked as problem:
        print(f"NOT CHECKED: {problem}", file=sys.stderr)
        return UNCHECKED
    print("OK: every check passed")
    return PASSED


if __name__ == "__main__":
    sys.exit(main())
