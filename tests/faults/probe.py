"""After a fault: does a new command on each write service still reach the read side?

One reception contact referred to casework, one outreach case request, and a
handler assigned on the reception case. Each carries a time of its own, and the
probe polls insight's live views until each time shows up there:

- intake's referral time as the case's ``referral_at`` (read from intake's topic),
- outreach's request time as its case's ``referral_at`` (outreach's topic),
- casework's assignment time as ``assigned_at`` (casework's topic; the cases
  themselves are opened by casework's reaction to the two referrals).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from casework.ids import case_id_for_origin

from .checks import INSIGHT
from .load import Api, simulate


async def probe(api: Api, dsn: str, timeout: float) -> dict[str, float]:
    """Seconds until each write service's new command was seen in insight; AssertionError after ``timeout``."""
    started = time.monotonic()
    deadline = started + timeout
    rng = random.Random()
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    contact = await api.post(f"{api.services['intake']}/contacts", {
        "personnummer": simulate.personnummer(rng), "channel": "phone", "area": "addiction",
        "administration": "social-services", "gender": "female", "contacted_at": at.isoformat()})
    referred_at = at + timedelta(hours=1)
    await api.post(f"{api.services['intake']}/contacts/{contact['contact_id']}/referral",
                   {"referred_at": referred_at.isoformat()})
    encounter = await api.post(f"{api.services['outreach']}/outreach-contacts", {
        "alias": f"probe-{rng.randrange(10**6)}", "place": "Stortorget", "worker": "outreach-1", "met_at": at.isoformat()})
    outreach_url = f"{api.services['outreach']}/outreach-contacts/{encounter['outreach_id']}"
    await api.post(f"{outreach_url}/identification", {
        "personnummer": simulate.personnummer(rng), "gender": "male", "identified_at": at.isoformat()})
    requested_at = at + timedelta(hours=2)
    await api.post(f"{outreach_url}/case-request", {
        "area": "homelessness", "administration": "social-services", "requested_at": requested_at.isoformat()})

    reception_case, outreach_case = case_id_for_origin(contact["contact_id"]), case_id_for_origin(encounter["outreach_id"])
    await _until(lambda: _case_exists(api, reception_case), deadline, f"casework opening {reception_case}")
    assigned_at = at + timedelta(hours=3)
    await api.post(f"{api.services['casework']}/cases/{reception_case}/handler",
                   {"handler": "handler-probe", "specialism": "general", "assigned_at": assigned_at.isoformat()})

    expected = {"intake": (reception_case, "referral_at", referred_at),
                "outreach": (outreach_case, "referral_at", requested_at),
                "casework": (reception_case, "assigned_at", assigned_at)}
    seen: dict[str, float] = {}

    async def all_seen() -> bool:
        rows = await _live_rows(dsn, [reception_case, outreach_case])
        for service, (case_id, column, value) in expected.items():
            if service not in seen and case_id in rows and rows[case_id][column] == value:
                seen[service] = time.monotonic() - started
        return len(seen) == len(expected)

    await _until(all_seen, deadline, lambda: f"insight showing {sorted(expected.keys() - seen.keys())}")
    return seen


async def _until(check, deadline: float, what) -> None:
    while True:
        try:
            if await check():
                return
        except (OSError, asyncpg.PostgresError, httpx.HTTPError):
            pass  # a server still coming back: ask again
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
        await asyncio.sleep(0.5)


async def _case_exists(api: Api, case_id: str) -> bool:
    response = await api.client.get(f"{api.services['casework']}/cases/{case_id}")
    if 400 <= response.status_code < 500 and response.status_code != 404:  # asking wrongly: waiting will not help
        raise AssertionError(f"GET /cases/{case_id} answered {response.status_code}: {response.text[:300]}")
    return response.status_code == 200


async def _live_rows(dsn: str, case_ids: list[str]) -> dict[str, asyncpg.Record]:
    # A connection per poll: the probe runs right after PostgreSQL restarts, when pooled ones would be dead.
    conn = await asyncpg.connect(dsn, timeout=5)
    try:
        rows = await conn.fetch(f"SELECT case_id, referral_at, assigned_at FROM {INSIGHT}.case_measures "
                                "WHERE case_id = ANY($1)", case_ids)
    finally:
        await conn.close()
    return {r["case_id"]: r for r in rows}
