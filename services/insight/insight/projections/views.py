"""Measures derived from the facts. Readers only ever query ``case_measures``, a table kept by the projection from
the view ``case_measures_derived`` (``projections.measures``); everything else feeds it.

Definitions (the dashboard and the API say the same in plain words):
- the wait runs from the first contact (CaseOpened.first_contact_at) to the first meeting
  held WITH the responsible handler; meetings without them do not stop the clock;
- outreach: the wait starts at the conversation that led to the case (CaseRequestedFromOutreach v2
  first_contact_at, carried into CaseOpened); first street encounter → case request is outreach's own measure;
- stages of the wait: first contact → referral (reception's referral, outreach's case
  request, or the case opening when neither is known) → first handler assignment → first meeting;
- days are counted between local calendar dates (``timezone``), so Monday to Friday is 4 days; working days
  beside them skip weekends and Swedish public holidays (the ``holidays`` package);
- the administration is the responsible one when the wait was measured: after the last
  transfer before the first meeting (or the closure; for an open wait, the latest transfer);
- staff met before the first meeting: distinct people from StaffMet and from meetings held before it;
- last contact: the last TWO-WAY contact (first contact, an attempt that reached the person, staff met, a
  meeting, the person getting in touch with reception again: a contact linked to the open case); an unanswered attempt does not reset it (it is shown beside: last attempt and its outcome);
- re-actualised within a year: the same person has a later case opened at most 365 days after the closure;
- lost during the wait: closed as unreachable or declined without a first meeting;
- the national clock (KKiK): first contact (and, beside it, the application) → the case's first income-support
  decision (DecisionMade), placed in time by the decision day;
- income-support need: an income-support case, or reception's «Har du ordnat försörjningsstöd?» answered
  arranged, applied or not arranged (anything but not needed).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import holidays


HOLIDAY_YEARS = range(2010, 2041)


def _public_holidays() -> str:
    """Swedish public holidays (``holidays``, Sundays left to the weekday test) as a SQL date[] literal.

    Inside the function body, not a table: readers call it through the live view from another search_path."""
    days = holidays.Sweden(years=HOLIDAY_YEARS, include_sundays=False)
    return "'{" + ",".join(day.isoformat() for day in sorted(days)) + "}'::date[]"


def ddl(timezone: str) -> str:
    """The views of a new generation. They are created once, with the generation: to change them, rebuild."""
    tz = str(ZoneInfo(timezone))  # refuses anything that is not a zone name before it reaches SQL
    return f"""
CREATE OR REPLACE FUNCTION local_day(at timestamptz) RETURNS date
    LANGUAGE sql STABLE AS $$ SELECT (at AT TIME ZONE '{tz}')::date $$;

-- Working days after ``start`` up to and including ``stop``: Monday–Friday, not a public holiday (so a wait from
-- Friday to Monday is 1 working day, as it is 3 calendar days).
CREATE OR REPLACE FUNCTION working_days(start date, stop date) RETURNS integer
    LANGUAGE sql STABLE AS $$
        SELECT count(*)::integer FROM generate_series(start + 1, stop, interval '1 day') AS d(day)
        WHERE extract(isodow FROM day) < 6 AND day::date <> ALL ({_public_holidays()}) $$;

CREATE OR REPLACE VIEW staff_contacts AS
    SELECT case_id, staff, met_at AS at FROM staff_met
    UNION ALL
    SELECT case_id, unnest(staff), held_at FROM meetings;

CREATE VIEW case_journeys AS
SELECT c.case_id, c.person_ref, c.episode, c.previous_case_id, c.area, c.gender, c.channel,
       CASE c.channel WHEN 'outreach' THEN 'outreach' WHEN 'partner_drop_in' THEN 'partner' ELSE 'reception' END
           AS channel_group,
       c.administration AS opening_administration,
       COALESCE(t.to_administration, c.administration) AS administration,
       c.first_contact_at, c.opened_at,
       COALESCE(i.referred_at, o.requested_at, c.opened_at) AS referral_at,
       o.first_encounter_at,
       h.assigned_at, m.first_meeting_at,
       h.handler_changes, h.handler_changes_before_first_meeting,
       COALESCE(s.staff_met_before_first_meeting, 0) AS staff_met_before_first_meeting,
       COALESCE(s.staff_met, 0) AS staff_met,
       a.contact_attempts, a.last_attempt_at, a.last_attempt_outcome, a.attempts_before_closing,
       GREATEST(c.first_contact_at, a.last_reached_at, s.last_met_at, r.last_returned_at) AS last_contact_at,
       COALESCE(r.returning_contacts, 0) AS returning_contacts,
       c.area = 'income_support' OR inc.status IN ('arranged', 'applied', 'not_arranged') AS income_support_need,
       st.preliminary_assessment_at, st.investigation_at, st.decision_at, st.intervention_at,
       d.income_support_applied_at, d.income_support_decision_at, d.income_support_decision,
       CASE WHEN sip.established_at IS NOT NULL THEN 'established'
            WHEN sip.declined_at IS NOT NULL THEN 'declined'
            WHEN sip.offered_at IS NOT NULL THEN 'offered'
            ELSE 'none' END AS sip,
       c.closed_at, c.closure_reason, c.housing_contract, c.self_supporting,
       CASE WHEN c.closed_at IS NOT NULL THEN EXISTS (
           SELECT 1 FROM cases later
           WHERE later.person_ref = c.person_ref AND later.case_id <> c.case_id
             AND later.opened_at > c.closed_at AND later.opened_at <= c.closed_at + interval '365 days')
       END AS reactualised_within_year
FROM cases c
LEFT JOIN intake_contacts i ON i.contact_id = c.origin_id
LEFT JOIN outreach_contacts o ON o.outreach_id = c.origin_id
LEFT JOIN intake_income_support inc ON inc.contact_id = c.origin_id
LEFT JOIN sip ON sip.case_id = c.case_id
LEFT JOIN LATERAL (
    SELECT min(held_at) FILTER (WHERE with_responsible_handler) AS first_meeting_at
    FROM meetings WHERE meetings.case_id = c.case_id) m ON true
LEFT JOIN LATERAL (
    SELECT min(at) AS assigned_at,
           count(*) FILTER (WHERE is_change) AS handler_changes,
           count(*) FILTER (WHERE is_change AND at < COALESCE(m.first_meeting_at, 'infinity'))
               AS handler_changes_before_first_meeting
    FROM handler_events WHERE handler_events.case_id = c.case_id) h ON true
LEFT JOIN LATERAL (
    SELECT count(DISTINCT staff) FILTER (WHERE at < COALESCE(m.first_meeting_at, 'infinity'))
               AS staff_met_before_first_meeting,
           count(DISTINCT staff) AS staff_met, max(at) AS last_met_at
    FROM staff_contacts WHERE staff_contacts.case_id = c.case_id) s ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS contact_attempts, max(attempted_at) AS last_attempt_at,
           max(attempted_at) FILTER (WHERE outcome = 'reached') AS last_reached_at,
           (array_agg(outcome ORDER BY attempted_at DESC, event_id))[1] AS last_attempt_outcome,
           count(*) FILTER (WHERE attempted_at <= c.closed_at) AS attempts_before_closing
    FROM contact_attempts WHERE contact_attempts.case_id = c.case_id) a ON true
LEFT JOIN LATERAL (
    SELECT to_administration FROM transfers
    WHERE transfers.case_id = c.case_id
      AND transferred_at <= COALESCE(m.first_meeting_at, c.closed_at, 'infinity')
    ORDER BY transferred_at DESC, event_id DESC LIMIT 1) t ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS returning_contacts, max(contacted_at) AS last_returned_at
    FROM intake_contacts WHERE intake_contacts.linked_case_id = c.case_id) r ON true
LEFT JOIN LATERAL (
    SELECT applied_at AS income_support_applied_at, decided_at AS income_support_decision_at,
           outcome AS income_support_decision
    FROM decisions WHERE decisions.case_id = c.case_id AND decision_type = 'income_support'
    ORDER BY decided_at, event_id LIMIT 1) d ON true
LEFT JOIN LATERAL (
    SELECT min(entered_at) FILTER (WHERE stage = 'preliminary_assessment') AS preliminary_assessment_at,
           min(entered_at) FILTER (WHERE stage = 'investigation') AS investigation_at,
           min(entered_at) FILTER (WHERE stage = 'decision') AS decision_at,
           min(entered_at) FILTER (WHERE stage = 'intervention') AS intervention_at
    FROM stages WHERE stages.case_id = c.case_id) st ON true
WHERE c.opened_at IS NOT NULL;

-- Entries that never became a case: reception contacts closed without one, outreach contacts (day of the last
-- encounter, for "silent for N days"); one row each, in the columns readers filter on.
CREATE VIEW entry_measures AS
SELECT 'reception' AS entry, contact_id AS entry_id, person_ref, area, channel,
       CASE channel WHEN 'partner_drop_in' THEN 'partner' ELSE 'reception' END AS channel_group,
       administration, gender, local_day(contacted_at) AS first_contact_day,
       local_day(closed_without_case_at) AS closed_day, closed_without_case_reason AS closure_reason,
       NULL::date AS last_encounter_day
FROM intake_contacts
WHERE contacted_at IS NOT NULL AND referred_at IS NULL AND linked_case_id IS NULL
  AND NOT EXISTS (SELECT 1 FROM cases WHERE cases.origin_id = intake_contacts.contact_id)
UNION ALL
SELECT 'outreach', outreach_id, alias_ref, NULL, 'outreach', 'outreach', administration, gender,
       local_day(first_encounter_at), NULL, NULL, local_day(last_encounter_at)
FROM outreach_contacts
WHERE first_encounter_at IS NOT NULL AND requested_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM cases WHERE cases.origin_id = outreach_contacts.outreach_id);

-- Every case's measures as derived from its facts; ``case_measures`` below keeps them, refreshed for the cases each
-- batch touched (``projections.measures``), so readers never derive them again.
CREATE VIEW case_measures_derived AS
SELECT j.*,
       to_char(local_day(j.first_contact_at), 'YYYY-MM') AS month,
       local_day(j.first_contact_at) AS first_contact_day,
       local_day(j.closed_at) AS closed_day,
       local_day(j.last_contact_at) AS last_contact_day,
       local_day(j.income_support_decision_at) AS decision_day,
       local_day(j.income_support_decision_at) - local_day(j.first_contact_at) AS contact_to_decision_days,
       local_day(j.income_support_decision_at) - local_day(j.income_support_applied_at) AS application_to_decision_days,
       local_day(j.first_meeting_at) - local_day(j.first_contact_at) AS wait_days,
       working_days(local_day(j.first_contact_at), local_day(j.first_meeting_at)) AS wait_working_days,
       local_day(j.referral_at) - local_day(j.first_contact_at) AS contact_to_referral_days,
       local_day(j.referral_at) - local_day(j.first_encounter_at) AS encounter_to_request_days,
       local_day(j.assigned_at) - local_day(j.referral_at) AS referral_to_assignment_days,
       local_day(j.first_meeting_at) - local_day(j.assigned_at) AS assignment_to_meeting_days,
       j.first_meeting_at IS NULL AND j.closed_at IS NULL AS waiting,
       j.closure_reason IN ('unreachable', 'declined')
           AND (j.first_meeting_at IS NULL OR j.first_meeting_at > j.closed_at) AS lost_during_wait
FROM case_journeys j;

CREATE TABLE case_measures AS SELECT * FROM case_measures_derived WITH NO DATA;
ALTER TABLE case_measures ADD PRIMARY KEY (case_id);
-- The lists, a page at a time in their order (queries.WAITING_ORDER, LOST_ORDER): a page reads its own rows.
CREATE INDEX waiting_worklist ON case_measures (COALESCE(last_contact_day, '-infinity'::date),
    COALESCE(first_contact_day, '-infinity'::date), case_id) WHERE waiting;
CREATE INDEX lost_list ON case_measures (COALESCE(closed_day, 'infinity'::date), case_id) WHERE lost_during_wait;
-- A person's other cases (whether a case is its person's only one: projections.measures, case_cube's ``single``).
CREATE INDEX case_measures_by_person ON case_measures (person_ref);

-- How many cases have each value of each measure, per month of first contact and per every combination of the
-- dimensions a reader filters or groups by ('*': all of them): kept with case_measures (projections.measures), so a
-- reader answers from a few hundred rows instead of every case (insight.cube). ``dims`` says which of area (1),
-- channel (2), administration (4), gender (8) the row is about; NULL is a value of its own, as in GROUP BY.
CREATE TABLE case_cube (
    dims smallint NOT NULL,
    month text,
    area text,
    channel text,
    administration text,
    gender text,
    measure text NOT NULL,
    value integer,
    n integer NOT NULL
);
-- In the order readers ask (a set of dimensions, a measure, then the values they filter on), with the count, so a
-- reader's question reads a stretch of the index and nothing else (once vacuumed).
CREATE UNIQUE INDEX case_cube_key ON case_cube (dims, measure, administration, gender, channel, area, month, value)
    INCLUDE (n) NULLS NOT DISTINCT;
CREATE INDEX case_cube_emptied ON case_cube (dims) WHERE n = 0;
"""
