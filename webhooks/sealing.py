"""The signing secrets encrypted at rest: Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`)
under a key derived from SECRET_KEY with HKDF and a label of its own, so that no other use of
SECRET_KEY yields it. A copy of the database alone does not give the secrets away; the registry
signs with them, so they are encrypted, not hashed. A secret sealed under a key now in
SECRET_KEY_FALLBACKS still opens (Django's way of changing SECRET_KEY); one sealed under a key
dropped from both does not: it reads as None (the endpoint needs a new secret), and nothing else fails."""

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import models

PURPOSE = b"rec-registry webhooks signing secret v1"


@functools.cache
def _fernet(*secret_keys: str) -> MultiFernet:
    """Seals under the first key, opens under any."""
    return MultiFernet([Fernet(base64.urlsafe_b64encode(
        HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(secret_key.encode())))
        for secret_key in secret_keys])


def _keys() -> MultiFernet:
    return _fernet(settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)


def seal(secret: str) -> str:
    """`secret` encrypted (a Fernet token, ASCII), as stored."""
    return _keys().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    """The secret that `seal` encrypted (cryptography.fernet.InvalidToken if it was sealed under none
    of SECRET_KEY and SECRET_KEY_FALLBACKS)."""
    return _keys().decrypt(sealed.encode()).decode()


class SealedTextField(models.TextField):
    """A text column holding its value sealed: Python sees the secret, the database only its token.
    A token that none of the keys opens reads as None: the value is lost, and the row still loads."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        try:
            return unseal(value)
        except InvalidToken:
            return None

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None or value == "" else seal(value)
