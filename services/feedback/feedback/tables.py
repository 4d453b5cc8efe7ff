"""The feedback service's own tables, beside its event store (same schema).

- ``case_view``: what the service knows of each case, built from the casework topic (``cases.py``): where the
  case is, its handler's staff id, the first meeting, the next one, the closure. The client's page and the
  access rules read it.
- ``follow_ups``: the durable schedule of one-year follow-ups: one row per closed case, due at ``due_at``,
  ``fired_at`` set in the same transaction as the FollowUpDue event (``scheduler.py``).
- ``free_texts``: what clients wrote. Never on the bus: events only say ``has_text``. Deleted with the person's
  cases' rows when the person is erased (``cases.py``).
- ``client_links`` / ``client_sessions``: the client's one-time links and the short sessions they open, both
  stored as SHA-256 hashes of the secret only (``client/access.py``).
"""

from __future__ import annotations

import asyncpg


def ddl(schema: str) -> str:
    return f"""
    CREATE TABLE IF NOT EXISTS {schema}.case_view (
        case_id text PRIMARY KEY,
        administration text NOT NULL,
        area text NOT NULL,
        first_contact_at timestamptz NOT NULL,
        opened_at timestamptz NOT NULL,
        stage text NOT NULL DEFAULT 'actualised',
        handler text,
        first_meeting_at timestamptz,
        next_meeting_at timestamptz,
        closed_at timestamptz);
    CREATE TABLE IF NOT EXISTS {schema}.follow_ups (
        case_id text PRIMARY KEY,
        due_at timestamptz NOT NULL,
        fired_at timestamptz);
    CREATE INDEX IF NOT EXISTS follow_ups_due ON {schema}.follow_ups (due_at) WHERE fired_at IS NULL;
    -- Set with the answer's event (answers.py): a fired follow-up without one is a task of the handler's.
    ALTER TABLE {schema}.follow_ups ADD COLUMN IF NOT EXISTS answered_at timestamptz;
    CREATE TABLE IF NOT EXISTS {schema}.free_texts (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        subject_id text NOT NULL,
        question text NOT NULL,
        text text NOT NULL,
        written_at timestamptz NOT NULL);
    CREATE INDEX IF NOT EXISTS free_texts_subject ON {schema}.free_texts (subject_id);
    -- Whose case it is, so an erased person's free text can go (cases.py, on PersonErased).
    ALTER TABLE {schema}.case_view ADD COLUMN IF NOT EXISTS person_ref text;
    CREATE TABLE IF NOT EXISTS {schema}.client_links (
        token_hash bytea PRIMARY KEY,
        case_id text NOT NULL,
        created_by text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        used_at timestamptz);
    CREATE TABLE IF NOT EXISTS {schema}.client_sessions (
        session_hash bytea PRIMARY KEY,
        case_id text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL);
    """


async def keep_text(conn: asyncpg.Connection, schema: str, subject_id: str, question: str, text: str | None,
                    written_at) -> None:
    """Keep a client's free text in the service's own table (in the caller's transaction, beside its event)."""
    if text:
        await conn.execute(f"INSERT INTO {schema}.free_texts (subject_id, question, text, written_at) VALUES ($1, $2, $3, $4)",
                           subject_id, question, text, written_at)
