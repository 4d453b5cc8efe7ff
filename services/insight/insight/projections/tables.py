"""The fact tables of one generation. Rows are keyed so that applying an event twice changes nothing."""

DDL = """
CREATE TABLE IF NOT EXISTS cases (
    case_id text PRIMARY KEY,
    person_ref text,
    origin_id text,
    channel text,
    area text,
    administration text,
    gender text,
    first_contact_at timestamptz,
    opened_at timestamptz,
    episode integer,
    previous_case_id text,
    closed_at timestamptz,
    closure_reason text,
    housing_contract text,
    self_supporting boolean
);
CREATE INDEX IF NOT EXISTS cases_by_person ON cases (person_ref, opened_at);
-- Every administration the case has been in (opened in, transferred from or to): who may see its rows.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS administrations text[] NOT NULL DEFAULT '{}';
CREATE INDEX IF NOT EXISTS cases_by_origin ON cases (origin_id);

CREATE TABLE IF NOT EXISTS handler_events (
    event_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    handler text NOT NULL,
    previous_handler text,
    is_change boolean NOT NULL,
    at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS handler_events_by_case ON handler_events (case_id);

CREATE TABLE IF NOT EXISTS meetings (
    event_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    held_at timestamptz NOT NULL,
    with_responsible_handler boolean NOT NULL,
    staff text[] NOT NULL
);
CREATE INDEX IF NOT EXISTS meetings_by_case ON meetings (case_id);

CREATE TABLE IF NOT EXISTS staff_met (
    event_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    staff text NOT NULL,
    met_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS staff_met_by_case ON staff_met (case_id);

CREATE TABLE IF NOT EXISTS contact_attempts (
    event_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    method text NOT NULL,
    outcome text NOT NULL,
    by_staff text NOT NULL,
    attempted_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS contact_attempts_by_case ON contact_attempts (case_id);

CREATE TABLE IF NOT EXISTS transfers (
    event_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    from_administration text NOT NULL,
    to_administration text NOT NULL,
    transferred_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS transfers_by_case ON transfers (case_id);

CREATE TABLE IF NOT EXISTS decisions (
    event_id uuid PRIMARY KEY,
    case_id text NOT NULL,
    decision_type text NOT NULL,
    outcome text NOT NULL,
    applied_at timestamptz,
    decided_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_by_case ON decisions (case_id);

-- First time the case entered each casework stage.
CREATE TABLE IF NOT EXISTS stages (
    case_id text NOT NULL,
    stage text NOT NULL,
    entered_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, stage)
);

CREATE TABLE IF NOT EXISTS sip (
    case_id text PRIMARY KEY,
    offered_at timestamptz,
    declined_at timestamptz,
    established_at timestamptz
);

-- Reception contacts, keyed by the contact id a case names as its origin.
CREATE TABLE IF NOT EXISTS intake_contacts (
    contact_id text PRIMARY KEY,
    person_ref text,
    channel text,
    area text,
    administration text,
    gender text,
    partner text,
    contacted_at timestamptz,
    referred_at timestamptz,
    closed_without_case_at timestamptz,
    closed_without_case_reason text,
    linked_case_id text,  -- a returning person's contact joined this open case (ContactLinkedToOpenCase)
    linked_at timestamptz
);

-- The answer to «Har du ordnat försörjningsstöd?» at reception (the latest asked).
CREATE TABLE IF NOT EXISTS intake_income_support (
    contact_id text PRIMARY KEY,
    status text NOT NULL,
    asked_at timestamptz NOT NULL
);

-- Outreach contacts, keyed by the outreach id a case names as its origin.
CREATE TABLE IF NOT EXISTS outreach_contacts (
    outreach_id text PRIMARY KEY,
    alias_ref text,
    administration text,
    gender text,
    first_encounter_at timestamptz,
    last_encounter_at timestamptz,
    requested_at timestamptz
);

-- A generation created by an earlier version keeps consuming after an upgrade: the columns added since are added
-- to its tables (its views stay as they were; `python -m insight rebuild` builds the new views from offset zero).
ALTER TABLE intake_contacts ADD COLUMN IF NOT EXISTS person_ref text, ADD COLUMN IF NOT EXISTS area text,
    ADD COLUMN IF NOT EXISTS administration text, ADD COLUMN IF NOT EXISTS gender text,
    ADD COLUMN IF NOT EXISTS closed_without_case_at timestamptz, ADD COLUMN IF NOT EXISTS closed_without_case_reason text,
    ADD COLUMN IF NOT EXISTS linked_case_id text, ADD COLUMN IF NOT EXISTS linked_at timestamptz;
ALTER TABLE outreach_contacts ADD COLUMN IF NOT EXISTS alias_ref text, ADD COLUMN IF NOT EXISTS administration text,
    ADD COLUMN IF NOT EXISTS gender text, ADD COLUMN IF NOT EXISTS last_encounter_at timestamptz;
CREATE INDEX IF NOT EXISTS intake_contacts_by_linked_case ON intake_contacts (linked_case_id);
"""
