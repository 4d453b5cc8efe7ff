"""The notifications' own tables, beside the notice store's events (schema ``<sharing>_notices``).

- ``person_items``: each contact and case of a person, where it belongs now and whether it is open, from the
  intake, outreach and casework topics (``people.py``). An opening and a closure fill their own columns, so the
  order they arrive in (two topics) does not matter.
- ``passings``: every time a person was passed on to another administration (``rules.Passing``), keyed by the
  event (or pair of contacts) that made it, so finding it again adds nothing.
- ``notices``: what ``GET /notices`` lists, one row per notice, written in the same transaction as its events.

A person's rows go when they are erased (PersonErased); their notices stay, as the log of who was told what and
when, without the person reference.
"""

from __future__ import annotations


def ddl(schema: str) -> str:
    return f"""
    CREATE TABLE IF NOT EXISTS {schema}.person_items (
        item_id text PRIMARY KEY,
        person_ref text,
        administration text,
        opened_at timestamptz,
        closed_at timestamptz,
        referred_elsewhere boolean NOT NULL DEFAULT false);
    CREATE INDEX IF NOT EXISTS person_items_by_person ON {schema}.person_items (person_ref);
    CREATE TABLE IF NOT EXISTS {schema}.passings (
        passing_id text PRIMARY KEY,
        person_ref text NOT NULL,
        item_id text NOT NULL,
        from_administration text NOT NULL,
        to_administration text NOT NULL,
        at timestamptz NOT NULL,
        transfer boolean NOT NULL);
    CREATE INDEX IF NOT EXISTS passings_by_person ON {schema}.passings (person_ref, at);
    CREATE TABLE IF NOT EXISTS {schema}.notices (
        notice_id text PRIMARY KEY,
        administration text NOT NULL,
        kind text NOT NULL,
        person_ref text,
        own_ids text[] NOT NULL,
        other_administrations text[] NOT NULL,
        passed_on integer,
        window_days integer,
        raised_at timestamptz NOT NULL,
        notified_at timestamptz NOT NULL DEFAULT now(),
        acknowledged_by text,
        acknowledged_at timestamptz,
        note_given boolean NOT NULL DEFAULT false);
    CREATE INDEX IF NOT EXISTS notices_by_administration ON {schema}.notices (administration, raised_at DESC);
    """
