"""What a partner may know a person by, and the key its webhooks are signed with: both derived per partner from the
service's one secret (``SharingSettings.sharing_secret``), so nothing per partner needs storing or rotating apart.

- ``reference(person_ref)`` = ``r-`` + HMAC-SHA256(partner key, person_ref)[:32 hex]: the same person gets the same
  reference at one partner (a second consent to the same partner joins up there), a different one at every other
  partner, and nobody without the key can go from it to our person_ref or from one partner's to another's.
- ``webhook_secret`` is the Standard Webhooks secret (``whsec_`` + base64 of 32 bytes) given to a webhook partner.

Pure: no I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def _partner_key(secret: bytes, purpose: str, partner: str) -> bytes:
    return hmac.new(secret, f"{purpose}:{partner}".encode(), hashlib.sha256).digest()


def reference(secret: bytes, partner: str, person_ref: str) -> str:
    """The person's reference for ``partner`` alone."""
    digest = hmac.new(_partner_key(secret, "reference", partner), person_ref.encode(), hashlib.sha256).hexdigest()
    return f"r-{digest[:32]}"


def webhook_secret(secret: bytes, partner: str) -> str:
    """The signing secret of ``partner``'s webhook, in the Standard Webhooks form ``whsec_<base64>``."""
    return "whsec_" + base64.b64encode(_partner_key(secret, "webhook", partner)).decode()
