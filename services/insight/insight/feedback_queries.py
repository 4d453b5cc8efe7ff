"""The SQL of insight's feedback views, over the facts ``projections.feedback`` keeps (``<schema>_feedback``).

Each function returns one view's rows, grouped per administration (and more); a row's ``_people`` is how many
people it is about, for small-group suppression (``feedback_views.hidden``). The happy-or-not counts are anonymous.
"""

from __future__ import annotations

from datetime import date, datetime

import asyncpg

WAIT_BUCKETS = ((7, "0-7"), (14, "8-14"), (28, "15-28"), (56, "29-56"))
"""Days waited for the first meeting, in groups of about a week, two, four and eight; more is ``57+``."""


PERIOD = "($2::date IS NULL OR answered_at >= $2::date) AND ($3::date IS NULL OR answered_at < $3::date + 1)"


def bucket_sql() -> str:
    cases = " ".join(f"WHEN waited_days <= {limit} THEN '{label}'" for limit, label in WAIT_BUCKETS)
    return f"CASE {cases} ELSE '{WAIT_BUCKETS[-1][0] + 1}+' END"


async def wait_experience_rows(pool: asyncpg.Pool, s: str, who: str | None, period_from: date | None = None,
                               period_to: date | None = None) -> list[asyncpg.Record]:
    return await pool.fetch(f"""
        SELECT administration, {bucket_sql()} AS waited, count(*) AS answers,
               round(avg(experience), 2)::float AS mean_experience,
               round(avg((experience >= 4)::int), 2)::float AS share_good,
               round(avg((experience <= 2)::int), 2)::float AS share_bad, count(*) AS _people
        FROM {s}.wait_answers WHERE ($1::text IS NULL OR administration = $1) AND {PERIOD}
        GROUP BY 1, 2 ORDER BY 1, min(waited_days)""", who, period_from, period_to)


async def wait_summary_rows(pool: asyncpg.Pool, s: str, who: str | None, period_from: date | None = None,
                            period_to: date | None = None) -> list[asyncpg.Record]:
    return await pool.fetch(f"""
        SELECT administration, count(*) AS answers, round(avg(experience), 2)::float AS mean_experience,
               round(avg(waited_days), 1)::float AS mean_days_waited,
               CASE WHEN count(*) >= 3 THEN round(corr(waited_days, experience)::numeric, 2)::float END AS correlation,
               count(*) AS _people
        FROM {s}.wait_answers WHERE ($1::text IS NULL OR administration = $1) AND {PERIOD}
        GROUP BY 1 ORDER BY 1""", who, period_from, period_to)


async def satisfaction_rows(pool: asyncpg.Pool, s: str, who: str | None, period_from: date | None = None,
                            period_to: date | None = None, unit: str | None = None) -> list[asyncpg.Record]:
    return await pool.fetch(f"""
        SELECT administration, unit, to_char(day, 'YYYY-MM') AS month, answers, satisfied,
               ((satisfied * 200 + answers) / (2 * answers))::int AS satisfaction_index
        FROM (SELECT administration, unit, date_trunc('month', day)::date AS day,
                     sum(very_satisfied + satisfied + dissatisfied + very_dissatisfied)::bigint AS answers,
                     sum(very_satisfied + satisfied)::bigint AS satisfied
              FROM {s}.visit_ratings
              WHERE ($1::text IS NULL OR administration = $1) AND ($4::text IS NULL OR unit = $4)
                AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)
              GROUP BY 1, 2, 3) monthly
        WHERE answers > 0 ORDER BY 1, 2, 3""", who, period_from, period_to, unit)


async def complaint_rows(pool: asyncpg.Pool, s: str, who: str | None, as_of: datetime | None = None) -> list[asyncpg.Record]:
    return await pool.fetch(f"""
        SELECT administration, status, count(*) AS complaints,
               count(*) FILTER (WHERE contacted_at IS NULL AND contact_due_at < coalesce($2, now())) AS overdue_contact,
               count(*) FILTER (WHERE answered_at IS NULL AND answer_due_at < coalesce($2, now())) AS overdue_answer,
               count(*) AS _people
        FROM (SELECT *, CASE WHEN closed_at IS NOT NULL THEN 'closed' WHEN answered_at IS NOT NULL THEN 'answered'
                             WHEN contacted_at IS NOT NULL THEN 'contacted' ELSE 'received' END AS status
              FROM {s}.complaints WHERE received_at IS NOT NULL AND ($1::text IS NULL OR administration = $1)) c
        GROUP BY 1, 2 ORDER BY 1, array_position(ARRAY['received', 'contacted', 'answered', 'closed'], status)""",
                            who, as_of)


async def follow_up_rows(pool: asyncpg.Pool, s: str, who: str | None) -> list[asyncpg.Record]:
    return await pool.fetch(f"""
        SELECT administration,
               count(*) FILTER (WHERE fired_at IS NULL) AS scheduled,
               count(*) FILTER (WHERE fired_at IS NOT NULL AND answered_at IS NULL) AS sent_unanswered,
               count(*) FILTER (WHERE answer = 'yes') AS answered_yes,
               count(*) FILTER (WHERE answer = 'partly') AS answered_partly,
               count(*) FILTER (WHERE answer = 'no') AS answered_no,
               count(*) AS _people
        FROM {s}.follow_ups WHERE ($1::text IS NULL OR administration = $1) GROUP BY 1 ORDER BY 1""", who)
