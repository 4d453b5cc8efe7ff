"""Topic names: ``<service>.<aggregate>.v1``. The key of every record is its stream id."""

from eventkit.consumer import DEAD_LETTER_TOPIC
from eventkit.erasure import ERASURES_TOPIC

INTAKE_CONTACTS = "intake.contact.v1"
OUTREACH_CONTACTS = "outreach.contact.v1"
CASEWORK_CASES = "casework.case.v1"
FEEDBACK = "feedback.feedback.v1"
"""Feedback: a case's wait questions and one-year follow-up, complaints, visit ratings (streams case-, complaint-, ratings-)."""
DEAD_LETTERS = DEAD_LETTER_TOPIC  # infrastructure's, named here so every topic is listed in one place
ERASURES = ERASURES_TOPIC  # eventkit.erasure: PersonErased, from any write service

ALL = [INTAKE_CONTACTS, OUTREACH_CONTACTS, CASEWORK_CASES, FEEDBACK, ERASURES, DEAD_LETTERS]
