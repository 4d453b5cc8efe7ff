"""Signed webhooks, after the Standard Webhooks specification (standardwebhooks.com), for partners without Kafka.

Each POST carries three headers:
- ``webhook-id``: the message's id, the same on every retry of it (a receiver drops one it has seen: the idempotency
  key);
- ``webhook-timestamp``: seconds since the epoch when this attempt was signed (a receiver refuses an old one:
  replay protection);
- ``webhook-signature``: ``v1,`` + base64 of HMAC-SHA256 over ``<id>.<timestamp>.<body>`` with the partner's secret
  (``whsec_`` + base64 of the key, from ``references.webhook_secret``).

``verify`` is the recipe docs/partners.md gives partners. Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
TOLERANCE_SECONDS = 5 * 60


class InvalidSignature(ValueError):
    pass


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, message_id, timestamp, body), "content-type": "application/json"}


def verify(secret: str, received: Mapping[str, str], body: bytes, now: int) -> None:
    """Raises ``InvalidSignature`` unless one of the signatures (space-separated, for key rotation) is the expected
    one and the timestamp is within five minutes of ``now``."""
    try:
        message_id, timestamp = received["webhook-id"], int(received["webhook-timestamp"])
        offered = received["webhook-signature"].split()
    except (KeyError, ValueError):
        raise InvalidSignature("missing or malformed webhook headers") from None
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise InvalidSignature("timestamp too far from now")
    expected = signature(secret, message_id, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in offered):
        raise InvalidSignature("no signature matches")
