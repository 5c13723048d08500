"""The log's signing key and origin, from the settings: PUBLICLOG_SIGNING_KEY (the base64 of an
Ed25519 private key's 32 bytes; `manage.py publiclog_key` makes one) and PUBLICLOG_ORIGIN. Without a
key, outside production, a development key derived from SECRET_KEY signs (so that `make run` and the
tests sign without one in the repository); in production the key must be set."""

from django.conf import settings

from utilities.signing_keys import ed25519_key, ed25519_new

from .notes import public_key_bytes, verifier_key


def origin() -> str:
    return settings.PUBLICLOG_ORIGIN


def signing_key():
    return ed25519_key(setting="PUBLICLOG_SIGNING_KEY", required=settings.PUBLICLOG_SIGNING_KEY_REQUIRED,
                       purpose="publiclog", used_for="the public log signs its checkpoints with it")


def public_key() -> bytes:
    return public_key_bytes(signing_key().public_key())


def log_verifier_key() -> str:
    """What an auditor configures to check the checkpoints: the origin as the key's name."""
    return verifier_key(origin(), public_key())


def new_signing_key() -> str:
    """A new key, as PUBLICLOG_SIGNING_KEY takes it."""
    return ed25519_new()
