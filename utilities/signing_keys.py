"""Ed25519 signing keys from the settings: the base64 of a private key's 32 bytes. Without one, outside
production, a development key derived from SECRET_KEY for the purpose given (so that `make run` and the
tests sign without a key in the repository); in production the key must be set. The public log's
checkpoints (publiclog.keys) and the messages to other registries (imports.messages) each have theirs."""

import base64
import binascii

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def ed25519_key(*, setting: str, required: bool, development: str, used_for: str) -> Ed25519PrivateKey:
    """The key in the setting named `setting`; when it is empty, the development key derived from SECRET_KEY
    with the label `development` (each key its own), unless `required` (production: never a key derived from
    another secret), where its absence is an error saying what the key is `used_for`."""
    value = getattr(settings, setting)
    if value:
        try:
            seed = base64.b64decode(value, validate=True)
        except binascii.Error as error:
            raise ImproperlyConfigured(f"{setting} is not base64.") from error
        if len(seed) != 32:
            raise ImproperlyConfigured(f"{setting} must be the base64 of 32 bytes.")
        return Ed25519PrivateKey.from_private_bytes(seed)
    if required:
        raise ImproperlyConfigured(f"Set {setting}: {used_for}.")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=development.encode()).derive(settings.SECRET_KEY.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def ed25519_new() -> str:
    """A new private key, as the settings take it."""
    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def ed25519_public_text(key: Ed25519PrivateKey) -> str:
    """The key's public half as another party configures it: the base64 of its 32 bytes."""
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
