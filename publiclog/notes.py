"""The C2SP formats of the log's checkpoints: a checkpoint's text (c2sp.org/tlog-checkpoint: the
origin, the tree size in decimal and the root hash in base64, each on its own line), signed as a
signed note (c2sp.org/signed-note) with Ed25519, and the verifier key that checks it. No Django: an
auditor reads it against the specifications, and the tests check notes the registry did not sign.

A signed note is its text (every line ending in a newline), an empty line, then one line per
signature: an em dash, a space, the key's name, a space, and the base64 of the key id (4 bytes) and
the signature (64 bytes) of the text. The key id is the first 4 bytes of SHA-256(name || 0x0A ||
0x01 || public key), 0x01 naming Ed25519. The verifier key is `<name>+<key id, hex>+<base64 of
0x01 || public key>`.

A witness's cosignature (c2sp.org/tlog-cosignature) is one more signature line: its key id takes 0x04
for 0x01, and it signs "cosignature/v1", a line "time <seconds since the epoch>", then the
checkpoint's text; the line carries the key id, the time (8 bytes, big-endian) and the signature."""

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
COSIGNATURE_V1 = b"\x04"  # an Ed25519 witness key, signing cosignature/v1 messages
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space


class NoteError(ValueError):
    """A note or checkpoint that is malformed or not signed by the key."""


@dataclass(frozen=True)
class CheckpointBody:
    origin: str
    size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root_hash).decode()}\n"


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes, key_type: bytes = ED25519) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + key_type + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes, key_type: bytes = ED25519) -> str:
    """The verifier key an auditor configures: name, key id and the typed public key."""
    return (f"{name}+{key_id(name, public_key, key_type).hex()}+"
            f"{base64.b64encode(key_type + public_key).decode()}")


def verifier_key_parsed(text: str, key_type: bytes = ED25519) -> tuple[str, bytes]:
    """The name and Ed25519 public key of a verifier key (a log's; a witness's with COSIGNATURE_V1);
    a NoteError if it is not one."""
    try:
        name, hex_id, typed = text.strip().split("+", 2)  # the base64 may hold a "+" too
        typed_key = base64.b64decode(typed, validate=True)
    except (ValueError, binascii.Error) as error:
        raise NoteError("Not a verifier key: name+keyid+base64 expected.") from error
    if typed_key[:1] != key_type or len(typed_key) != 33 or key_id(name, typed_key[1:], key_type).hex() != hex_id:
        kind = "a witness's Ed25519 key (type 0x04)" if key_type == COSIGNATURE_V1 else "an Ed25519 key"
        raise NoteError(f"The verifier key is not {kind} matching its key id.")
    return name, typed_key[1:]


def note_signed(text: str, *, name: str, private_key: Ed25519PrivateKey) -> str:
    """`text` (lines ending in newlines) as a signed note, signed by `private_key` under `name`."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("A note's text is lines each ending in a newline, none empty.")
    public_key = public_key_bytes(private_key.public_key())
    signature = private_key.sign(text.encode())
    encoded = base64.b64encode(key_id(name, public_key) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {encoded}\n"


def note_text_verified(note: str, *, name: str, public_key: bytes) -> str:
    """The text of `note` if one of its signatures is `name`'s, by `public_key`; a NoteError if not."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator or not signatures.endswith("\n"):
        raise NoteError("Not a signed note: no signature lines after an empty line.")
    text += "\n"
    wanted_id = key_id(name, public_key)
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("A signature line must start with an em dash and a space.")
        signer, _, encoded = line[len(SIGNATURE_PREFIX):].partition(" ")
        try:
            signed = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise NoteError("A signature is not base64.") from error
        if signer != name or signed[:4] != wanted_id:
            continue  # another key's signature (a witness's)
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(signed[4:], text.encode())
        except InvalidSignature as error:
            raise NoteError(f"The signature of {name} does not match the note's text.") from error
        return text
    raise NoteError(f"The note carries no signature of {name}.")


def checkpoint_parsed(text: str) -> CheckpointBody:
    """A checkpoint's origin, size and root hash from its (verified) text."""
    lines = text.split("\n")
    try:
        origin, size, root_hash = lines[0], int(lines[1]), base64.b64decode(lines[2], validate=True)
    except (IndexError, ValueError, binascii.Error) as error:
        raise NoteError("Not a checkpoint: origin, size and base64 root hash, one a line, expected.") from error
    if not origin or size < 0 or len(root_hash) != 32 or lines[1] != str(size):
        raise NoteError("Not a checkpoint: an origin, a size in decimal and a 32-byte root hash expected.")
    return CheckpointBody(origin=origin, size=size, root_hash=root_hash)


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def cosignature_line(text: str, *, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """A witness's cosignature of a checkpoint's `text`, at `timestamp`, as a signature line."""
    public_key = public_key_bytes(private_key.public_key())
    signed = private_key.sign(_cosigned_message(text, timestamp))
    encoded = base64.b64encode(key_id(name, public_key, COSIGNATURE_V1) + struct.pack(">Q", timestamp) + signed)
    return f"{SIGNATURE_PREFIX}{name} {encoded.decode()}\n"


def cosignatures_verified(text: str, lines: str, *, name: str, public_key: bytes) -> list[tuple[str, int]]:
    """The cosignature lines among `lines` (signature lines, each ending in a newline) that are the
    witness `name`'s by `public_key` of the checkpoint's `text`, with their times; lines of other keys
    are passed over, and one of this key that does not verify is a NoteError."""
    wanted_id = key_id(name, public_key, COSIGNATURE_V1)
    found = []
    for line in lines.splitlines(keepends=True):
        signer, _, encoded = line.removeprefix(SIGNATURE_PREFIX).rstrip("\n").partition(" ")
        if not line.startswith(SIGNATURE_PREFIX) or not line.endswith("\n"):
            raise NoteError("A cosignature is a line starting with an em dash and a space.")
        try:
            signed = base64.b64decode(encoded, validate=True)
        except binascii.Error as error:
            raise NoteError("A cosignature is not base64.") from error
        if signer != name or signed[:4] != wanted_id:
            continue
        (timestamp,) = struct.unpack(">Q", signed[4:12]) if len(signed) == 76 else (None,)
        try:
            if timestamp is None:
                raise InvalidSignature
            Ed25519PublicKey.from_public_bytes(public_key).verify(signed[12:], _cosigned_message(text, timestamp))
        except InvalidSignature as error:
            raise NoteError(f"The cosignature of {name} does not match the checkpoint.") from error
        found.append((line, timestamp))
    return found
