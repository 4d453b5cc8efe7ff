"""A meeting entered late, after the case changed hands, through the real services, Kafka and the read side.

Issue 10: whether a meeting stopped the wait is judged by who was the responsible handler on the meeting's own
date, not on the day it was typed in. Anna was responsible from day 28 to day 15 before now; the meeting with her
on day 20 before now is recorded after the change to Bo: it still ends the wait (10 days), and the stage times
stay non-negative. A meeting with Anna dated before she was assigned is refused, naming the rule.
"""

from __future__ import annotations

import pytest

from casework.ids import case_id_for_origin

from .test_erasure import a_personnummer, projected
from .test_journeys import ago, ok, wait_for_case

pytestmark = pytest.mark.integration


async def test_a_meeting_recorded_after_the_handler_changed_ends_the_wait_on_its_own_date(
        platform, pool, producer, settings):
    contact = await ok(platform.intake.post("/contacts", json={
        "personnummer": a_personnummer(), "channel": "phone", "area": "addiction", "administration": "social-services",
        "gender": "female", "contacted_at": ago(30)}))
    await ok(platform.intake.post(f"/contacts/{contact['contact_id']}/referral", json={"referred_at": ago(29)}))
    case_id = case_id_for_origin(contact["contact_id"])
    await wait_for_case(platform, case_id)
    url = f"/cases/{case_id}"
    await ok(platform.casework.post(f"{url}/handler", json={
        "handler": "anna.h", "specialism": "addiction", "assigned_at": ago(28)}))

    too_early = await platform.casework.post(f"{url}/meetings/held", json={"held_at": ago(28.5), "staff": ["anna.h"]})
    assert too_early.status_code == 422, too_early.text
    assert "meeting-before-assignment" in too_early.text

    await ok(platform.casework.post(f"{url}/handler-change", json={
        "handler": "bo.k", "specialism": "mental_health", "reason": "staff_turnover", "changed_at": ago(15)}))
    await ok(platform.casework.post(f"{url}/meetings/held", json={"held_at": ago(20), "staff": ["anna.h"]}))

    _, live = await projected(platform, pool, producer, settings)
    row = await pool.fetchrow(f"SELECT wait_days, assignment_to_meeting_days, referral_to_assignment_days, waiting, "
                              f"handler_changes_before_first_meeting FROM {live.schema}.case_measures WHERE case_id = $1",
                              case_id)
    assert dict(row) == {"wait_days": 10, "assignment_to_meeting_days": 8, "referral_to_assignment_days": 1,
                         "waiting": False, "handler_changes_before_first_meeting": 0}
