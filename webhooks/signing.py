"""How a delivery is signed: Standard Webhooks 1.0 (https://www.standardwebhooks.com), so that a
receiver checks it with its language's Standard Webhooks library.

Headers `webhook-id` (the event's id, the same on every attempt), `webhook-timestamp` (the attempt's
Unix seconds) and `webhook-signature`: `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">`,
keyed with the bytes the endpoint's secret encodes (`whsec_` + base64), one such signature per
secret that signs (two, space-separated, while a replaced secret's grace period lasts). The
timestamp is signed with the body: a captured delivery cannot be replayed after the receiver's
tolerance (5 minutes in the libraries)."""

import base64
import binascii
import hashlib
import hmac
import re
import secrets

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification asks for 24 to 64 random bytes
STANDARD_SECRET = re.compile(r"whsec_(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")

# What a receiver runs; shown on the webhooks page, in README.md (Webhooks) and in the API's
# documentation (RECEIVER_DOCS). The tests run this very text against real deliveries.
RECEIVER_SNIPPET = '''\
from standardwebhooks.webhooks import Webhook, WebhookVerificationError  # pip install standardwebhooks


def registry_event(secret: str, body: bytes, headers: dict[str, str]) -> dict | None:
    """The event a delivery carries, or None when it is not signed with the endpoint's secret
    (`whsec_...`) within the last 5 minutes: then answer 400 and act on nothing."""
    try:
        return Webhook(secret).verify(body, headers)  # the raw body, before any parsing
    except WebhookVerificationError:
        return None
'''


# The same, for the API's documentation (portal.settings: SPECTACULAR_SETTINGS["DESCRIPTION"], Markdown).
RECEIVER_DOCS = f"""## Webhooks: checking a delivery

A manager registers an https endpoint on Organization → Webhooks and chooses its events. Each
delivery is a POST with a JSON body `{{"id", "type", "created_at", "organization", "data"}}` (each
event's body is described under *Webhooks* in this schema), signed as
[Standard Webhooks](https://www.standardwebhooks.com) specifies: the headers `{ID_HEADER}` (the
event's id, the same on every attempt: if you have seen it, answer 2xx and do nothing again),
`{TIMESTAMP_HEADER}` (Unix seconds) and `{SIGNATURE_HEADER}` (`v1,<base64 HMAC-SHA256 of
"<id>.<timestamp>.<raw body>">`, keyed with the endpoint's secret `whsec_<base64>`; after a
manager replaces the secret, the old one signs too for a day by default: two signatures,
space-separated, any one of which is valid). Check each delivery with your language's Standard
Webhooks library, on the raw body, before you parse it. In Python (`pip install standardwebhooks`):

```python
{RECEIVER_SNIPPET}```

Answer 2xx once you have it. A 410 Gone disables the endpoint (its managers are told by email; they
enable it again on its page); after a 429, 502, 503 or 504 nothing is sent to the endpoint before its
next attempt, which waits as long as `Retry-After` asks (seconds or an HTTP date; at most an hour), or
the backoff if longer; a redirect is a failed attempt.
"""


def secret_new() -> str:
    """A new endpoint's signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a secret stands for: the bytes its base64 encodes. The secrets made before the
    registry followed Standard Webhooks are URL-safe base64 without padding; they are read so too."""
    encoded = secret.removeprefix(SECRET_PREFIX).translate(str.maketrans("-_", "+/"))
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error as error:
        raise ValueError("Not a webhook signing secret.") from error


def secret_is_standard(secret: str) -> bool:
    """Whether the secret is written as Standard Webhooks libraries read it (standard base64); the
    URL-safe ones made before are not, in every language."""
    return bool(STANDARD_SECRET.fullmatch(secret))


def signature(*, secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of `body` sent as `message_id` at `timestamp`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret_key(secret), signed, hashlib.sha256).digest()).decode()


def signed_headers(*, secrets_signing: list[str], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a delivery, signed with each of `secrets_signing` (the current secret
    first)."""
    return {ID_HEADER: message_id, TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: " ".join(signature(secret=secret, message_id=message_id, timestamp=timestamp, body=body)
                                       for secret in secrets_signing)}
