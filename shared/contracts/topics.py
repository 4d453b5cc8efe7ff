"""Topic names: ``<service>.<aggregate>.v1``. The key of every record is its stream id."""

from eventkit.consumer import DEAD_LETTER_TOPIC
from eventkit.erasure import ERASURES_TOPIC

INTAKE_CONTACTS = "intake.contact.v1"
OUTREACH_CONTACTS = "outreach.contact.v1"
CASEWORK_CASES = "casework.case.v1"
FEEDBACK = "feedback.feedback.v1"
"""Feedback: a case's wait questions and one-year follow-up, complaints, visit ratings (streams case-, complaint-, ratings-)."""
SHARING_PARTNERS = "sharing.partner.v1"
"""The partner directory (streams partner-<code>)."""
SHARING_CONSENTS = "sharing.consent.v1"
"""Consents, the referrals they allow and partners' statuses back (streams consent-<uuid>)."""
SHARING_NOTICES = "sharing.notification.v1"
"""Notifications across administrations, one stream per recipient (notice-<uuid>)."""
DEAD_LETTERS = DEAD_LETTER_TOPIC  # infrastructure's, named here so every topic is listed in one place
ERASURES = ERASURES_TOPIC  # eventkit.erasure: PersonErased, from any write service

ALL = [INTAKE_CONTACTS, OUTREACH_CONTACTS, CASEWORK_CASES, FEEDBACK, SHARING_PARTNERS, SHARING_CONSENTS, SHARING_NOTICES,
       ERASURES, DEAD_LETTERS]

PARTNER_TOPIC_PREFIX = "partner."
"""Every partner's own topics start so (a PREFIXED ACL names them all for the sharing service)."""


def partner_referrals(partner: str) -> str:
    """What one partner may read (contracts.partner_feed): its referrals and withdrawals, nobody else's."""
    return f"{PARTNER_TOPIC_PREFIX}{partner}.referrals.v1"


def partner_statuses(partner: str) -> str:
    """Where one partner may write its statuses back (contracts.partner_feed.ReferralStatus)."""
    return f"{PARTNER_TOPIC_PREFIX}{partner}.status.v1"
