"""Topic names: ``<service>.<aggregate>.v1``. The key of every record is its stream id."""

INTAKE_CONTACTS = "intake.contact.v1"
OUTREACH_CONTACTS = "outreach.contact.v1"
CASEWORK_CASES = "casework.case.v1"
DEAD_LETTERS = "vantrum.dead-letter.v1"

ALL = [INTAKE_CONTACTS, OUTREACH_CONTACTS, CASEWORK_CASES, DEAD_LETTERS]
