"""The log's signing key and origin, from the settings: PUBLICLOG_SIGNING_KEY (the base64 of an
Ed25519 private key's 32 bytes; `manage.py publiclog_key` makes one) and PUBLICLOG_ORIGIN. Without a
key, outside production, a development key derived from SECRET_KEY signs (so that `make run` and the
tests sign without one in the repository); in production the key must be set. The same for the key
this registry cosigns other logs' checkpoints with as their witness (PUBLICLOG_WITNESS_KEY)."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from utilities.signing_keys import ed25519_key, ed25519_new

from .notes import COSIGNATURE_V1, public_key_bytes, verifier_key


def origin() -> str:
    return settings.PUBLICLOG_ORIGIN


def signing_key() -> Ed25519PrivateKey:
    return ed25519_key(setting="PUBLICLOG_SIGNING_KEY", development="publiclog development signing key",
                       required=settings.PUBLICLOG_SIGNING_KEY_REQUIRED, used_for="the public log signs with it")


def witness_key() -> Ed25519PrivateKey:
    """The key this registry cosigns other logs' checkpoints with, as their witness."""
    return ed25519_key(setting="PUBLICLOG_WITNESS_KEY", development="publiclog development witness key",
                       required=settings.PUBLICLOG_SIGNING_KEY_REQUIRED and bool(settings.PUBLICLOG_WITNESSED_LOGS),
                       used_for="the public log signs with it")


def public_key() -> bytes:
    return public_key_bytes(signing_key().public_key())


def log_verifier_key() -> str:
    """What an auditor configures to check the checkpoints: the origin as the key's name."""
    return verifier_key(origin(), public_key())


def witness_verifier_key() -> str:
    """What a log configures (PUBLICLOG_WITNESSES) to check this registry's cosignatures."""
    return verifier_key(settings.PUBLICLOG_WITNESS_NAME, public_key_bytes(witness_key().public_key()),
                        COSIGNATURE_V1)


def new_signing_key() -> str:
    """A new key, as PUBLICLOG_SIGNING_KEY takes it."""
    return ed25519_new()
