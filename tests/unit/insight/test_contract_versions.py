"""The read side decodes every stored version of the events it projects (the contracts' upcasters apply)."""

from datetime import UTC, datetime

from insight.projections.journey import REGISTRY


def test_a_version_1_case_request_from_outreach_reads_with_its_first_encounter_as_both_times():
    first = datetime(2024, 3, 6, 9, tzinfo=UTC)
    v1 = {"outreach_id": "outreach-1", "person_ref": "p-" + "a" * 32, "area": "homelessness",
          "administration": "social-services", "gender": "female", "first_contact_at": first.isoformat(),
          "requested_at": datetime(2024, 4, 10, 9, tzinfo=UTC).isoformat()}
    event = REGISTRY.decode("CaseRequestedFromOutreach", 1, v1)
    assert (event.version, event.first_encounter_at, event.first_contact_at) == (2, first, first)


def test_the_projection_reads_decisions_and_returning_contacts():
    assert {"DecisionMade", "ContactLinkedToOpenCase", "ContactClosedWithoutCase", "PersonIdentified"} <= set(
        REGISTRY.type_names)
