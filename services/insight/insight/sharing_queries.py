"""The SQL of insight's notification feed and partner figures, over the facts ``projections.notices`` and
``projections.partners`` keep (``<schema>_notices``, ``<schema>_partners``).

Partner figures per partner in the directory:

- ``referrals_sent``: referrals sent to it (PartnerReferralSent);
- ``reached``: those it reports having reached the person (a status with ``contacted_at``);
- ``reached_during_wait`` and its share of those sent: reached before the person's first meeting with the
  responsible handler after the consent (``case_measures.first_meeting_at``; none yet: still waiting, so any contact
  counts). This is the question of seeds 000/001: did the call-back come *during* the wait?
- ``median_days_to_contact``: the median of the days from the consent to the partner's contact, over those reached.

A row's ``_people`` (distinct persons referred) and ``_owner`` (the one administration all its consents were
recorded by, or None) are for small-group suppression (``sharing_views.hidden``).
"""

from __future__ import annotations

import asyncpg

STATUSES = ("open", "acknowledged")


async def notice_rows(pool: asyncpg.Pool, s: str, who: str | None, status: str | None = None,
                      limit: int = 200) -> list[asyncpg.Record]:
    return await pool.fetch(f"""
        SELECT notice_id, administration, kind, own_ids, other_administrations, passed_on, window_days, raised_at,
               notified_at, acknowledged_by, acknowledged_at
        FROM {s}.notice_feed
        WHERE kind IS NOT NULL AND ($1::text IS NULL OR administration = $1)
          AND ($2::text IS NULL OR ($2 = 'open') = (acknowledged_at IS NULL))
        ORDER BY acknowledged_at IS NOT NULL, raised_at DESC, notice_id LIMIT $3""", who, status, limit)


async def notice_counts(pool: asyncpg.Pool, s: str, who: str | None) -> list[asyncpg.Record]:
    """Per administration and kind: how many notices are open and acknowledged (no ids: shown without a purpose)."""
    return await pool.fetch(f"""
        SELECT administration, kind, count(*) FILTER (WHERE acknowledged_at IS NULL) AS open,
               count(*) FILTER (WHERE acknowledged_at IS NOT NULL) AS acknowledged
        FROM {s}.notice_feed WHERE kind IS NOT NULL AND ($1::text IS NULL OR administration = $1)
        GROUP BY 1, 2 ORDER BY 1, 2""", who)


async def directory_rows(pool: asyncpg.Pool, s: str) -> list[asyncpg.Record]:
    return await pool.fetch(f"""
        SELECT partner, name, description, services::text AS services, locations::text AS locations,
               contact::text AS contact, delivery, delisted_at IS NOT NULL AS delisted
        FROM {s}.partner_directory ORDER BY delisted_at IS NOT NULL, name""")


async def partner_rows(pool: asyncpg.Pool, s: str, base: str, who: str | None) -> list[asyncpg.Record]:
    measured = await pool.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{base}.case_measures")
    first_meeting = (f"""(SELECT min(m.first_meeting_at) FROM {base}.case_measures m
                          WHERE m.person_ref = r.person_ref AND m.first_meeting_at >= r.given_at)"""
                     if measured else "NULL::timestamptz")
    return await pool.fetch(f"""
        WITH r AS (
            SELECT r.*, {first_meeting} AS first_meeting_at
            FROM {s}.partner_referrals r WHERE r.sent_at IS NOT NULL AND ($1::text IS NULL OR r.administration = $1))
        SELECT d.partner, d.name, count(r.referral_id) AS referrals_sent, count(r.contacted_at) AS reached,
               count(*) FILTER (WHERE r.contacted_at IS NOT NULL
                                  AND (r.first_meeting_at IS NULL OR r.contacted_at < r.first_meeting_at))
                   AS reached_during_wait,
               round((count(*) FILTER (WHERE r.contacted_at IS NOT NULL
                                         AND (r.first_meeting_at IS NULL OR r.contacted_at < r.first_meeting_at))
                      ::numeric / nullif(count(r.referral_id), 0)), 2)::float AS share_reached_during_wait,
               round((percentile_cont(0.5) WITHIN GROUP (
                   ORDER BY extract(epoch FROM r.contacted_at - r.given_at) / 86400))::numeric, 1)::float
                   AS median_days_to_contact,
               count(DISTINCT coalesce(r.person_ref, r.referral_id)) AS _people,
               CASE WHEN count(DISTINCT r.administration) = 1 THEN min(r.administration) END AS _owner
        FROM {s}.partner_directory d LEFT JOIN r ON r.partner = d.partner
        GROUP BY d.partner, d.name ORDER BY d.name""", who)
