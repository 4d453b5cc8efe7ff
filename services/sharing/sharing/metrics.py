"""The partner feed's metrics (the alerts PartnerDeliveriesFailing and PartnerDeliveryGivenUp read them). Labelled by
partner code: a handful of partners, so few series; never a reference or referral id."""

from __future__ import annotations

from prometheus_client import Counter

PARTNER_DELIVERIES = Counter("vantrum_partner_deliveries", "Attempts to deliver a referral or withdrawal to a partner",
                             ["partner", "channel", "outcome"])
"""outcome: delivered; retrying (a 5xx, timeout or broker error: tried again with backoff); given_up (a refusal, or
the last attempt)."""
