"""The log's signing key and origin, from the settings: PUBLICLOG_SIGNING_KEY (the base64 of an
Ed25519 private key's 32 bytes; `manage.py publiclog_key` makes one) and PUBLICLOG_ORIGIN. Without a
key, outside production, a development key derived from SECRET_KEY signs (so that `make run` and the
tests sign without one in the repository); in production the key must be set. The same for the key
this registry cosigns other logs' checkpoints with as their witness (PUBLICLOG_WITNESS_KEY)."""

import base64
import binascii

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .notes import COSIGNATURE_V1, public_key_bytes, verifier_key


def origin() -> str:
    return settings.PUBLICLOG_ORIGIN


def signing_key() -> Ed25519PrivateKey:
    return _key(settings.PUBLICLOG_SIGNING_KEY, name="PUBLICLOG_SIGNING_KEY", info=b"publiclog development signing key",
                required=settings.PUBLICLOG_SIGNING_KEY_REQUIRED)


def witness_key() -> Ed25519PrivateKey:
    """The key this registry cosigns other logs' checkpoints with, as their witness."""
    return _key(settings.PUBLICLOG_WITNESS_KEY, name="PUBLICLOG_WITNESS_KEY", info=b"publiclog development witness key",
                required=settings.PUBLICLOG_SIGNING_KEY_REQUIRED and bool(settings.PUBLICLOG_WITNESSED_LOGS))


def _key(setting: str, *, name: str, info: bytes, required: bool) -> Ed25519PrivateKey:
    if setting:
        try:
            seed = base64.b64decode(setting, validate=True)
        except binascii.Error as error:
            raise ImproperlyConfigured(f"{name} is not base64.") from error
        if len(seed) != 32:
            raise ImproperlyConfigured(f"{name} must be the base64 of 32 bytes.")
        return Ed25519PrivateKey.from_private_bytes(seed)
    if required:  # in production, never a key derived from another secret
        raise ImproperlyConfigured(f"Set {name}: the public log signs with it.")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(settings.SECRET_KEY.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


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
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()
