"""Case ids derived from what caused the case, so a repeated cause finds the same case instead of a new one."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:vantrum:casework:case")


def case_id_for_origin(origin_id: str) -> str:
    """The one case a referral (intake contact or outreach contact) opens, however often it is delivered."""
    return f"case-{uuid.uuid5(NAMESPACE, origin_id)}"


def successor_case_id(case_id: str) -> str:
    """The case that reopens ``case_id``: a closed case has at most one next episode."""
    return f"case-{uuid.uuid5(NAMESPACE, 'reopened:' + case_id)}"
