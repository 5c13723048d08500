"""How a delivery is signed, and the few lines with which a receiver checks it.

Header `Registry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`: the
timestamp is signed with the body, so a captured delivery cannot be replayed later than the
receiver's tolerance (5 minutes in the snippet)."""

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "Registry-Signature"
EVENT_ID_HEADER = "Registry-Event-Id"
EVENT_TYPE_HEADER = "Registry-Event-Type"
SECRET_PREFIX = "whsec_"

# What a receiver runs; shown on the webhooks page and in README.md (Webhooks), and meant for the API
# documentation. The tests run this very text against real deliveries.
RECEIVER_SNIPPET = '''\
import hashlib
import hmac
import time


def registry_signature_valid(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """Whether a Registry-Signature header signs this raw request body, and is recent."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, signature = fields.get("t", ""), fields.get("v1", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
'''


# The same, for the API's documentation (portal.settings: SPECTACULAR_SETTINGS["DESCRIPTION"], Markdown).
RECEIVER_DOCS = f"""## Webhooks: checking a delivery

A manager registers an https endpoint on Organization → Webhooks and chooses its events. Each
delivery is a POST with a JSON body `{{"id", "type", "created_at", "organization", "data"}}` and
these headers: `{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" with
the endpoint's secret>` (the secret is shown once, when the endpoint is registered or its secret
replaced); `{EVENT_ID_HEADER}`, the event's id, the same on every attempt (if you have seen it,
answer 2xx and do nothing again); `{EVENT_TYPE_HEADER}`, the event's type. Check the signature on
the raw body before you parse it, and refuse one older than 5 minutes. In Python:

```python
{RECEIVER_SNIPPET}```
"""


def secret_new() -> str:
    """A new endpoint's signing secret: 256 random bits, recognisable by its prefix."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The Registry-Signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
