"""The log's signing key and origin, from the settings: PUBLICLOG_SIGNING_KEY (the base64 of an
Ed25519 private key's 32 bytes; `manage.py publiclog_key` makes one) and PUBLICLOG_ORIGIN. Without a
key, outside production, a development key derived from SECRET_KEY signs (so that `make run` and the
tests sign without one in the repository); in production the key must be set."""

import base64
import binascii

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .notes import public_key_bytes, verifier_key


def origin() -> str:
    return settings.PUBLICLOG_ORIGIN


def signing_key() -> Ed25519PrivateKey:
    if settings.PUBLICLOG_SIGNING_KEY:
        try:
            seed = base64.b64decode(settings.PUBLICLOG_SIGNING_KEY, validate=True)
        except binascii.Error as error:
            raise ImproperlyConfigured("PUBLICLOG_SIGNING_KEY is not base64.") from error
        if len(seed) != 32:
            raise ImproperlyConfigured("PUBLICLOG_SIGNING_KEY must be the base64 of 32 bytes.")
        return Ed25519PrivateKey.from_private_bytes(seed)
    if settings.PUBLICLOG_SIGNING_KEY_REQUIRED:
        raise ImproperlyConfigured("Set PUBLICLOG_SIGNING_KEY: the public log signs its checkpoints with it.")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"publiclog development signing key").derive(settings.SECRET_KEY.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key() -> bytes:
    return public_key_bytes(signing_key().public_key())


def log_verifier_key() -> str:
    """What an auditor configures to check the checkpoints: the origin as the key's name."""
    return verifier_key(origin(), public_key())


def new_signing_key() -> str:
    """A new key, as PUBLICLOG_SIGNING_KEY takes it."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()
