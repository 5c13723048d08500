"""The invitation link's token: random, signed with a timestamp, and kept only as a hash.

The link carries `<random>:<timestamp>:<signature>` (Django's TimestampSigner, salted for this use).
A tampered link fails the signature and one older than INVITATION_DAYS fails its age, before the
database is read; the database keeps only the SHA-256 of the random part, so a copy of it opens
nothing. Resending makes a new token, so the old link stops working.
"""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core import signing

SALT = "registry.invitation"
EXPIRED = "This invitation has expired. Ask a manager of the organization to send you a new one."


class LinkRefused(Exception):
    """The link is not one we sent (tampered), or too old. The message says which, for the invitee."""


def invitation_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=settings.INVITATION_DAYS)


def token_new() -> tuple[str, str]:
    """A new link token and the hash to store: (token, token_hash)."""
    secret = secrets.token_urlsafe(32)
    return signing.TimestampSigner(salt=SALT).sign(secret), token_hash(secret)


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def token_read(token: str) -> str:
    """The hash of the token's random part, once its signature and age are checked."""
    try:
        secret = signing.TimestampSigner(salt=SALT).unsign(token, max_age=invitation_lifetime())
    except signing.SignatureExpired as error:
        raise LinkRefused(EXPIRED) from error
    except signing.BadSignature as error:
        raise LinkRefused("This invitation link is not valid. Check that you copied the whole "
                          "link from the email, or ask for a new invitation.") from error
    return token_hash(secret)
