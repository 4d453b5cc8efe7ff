"""Case ids are derived so that a repeated cause finds the same case; referrals map to OpenCase."""

from datetime import UTC, datetime

from casework.ids import case_id_for_origin, successor_case_id
from casework.referrals import OpenCasesFromReferrals, open_case_for
from contracts.intake import ReferredToCasework
from contracts.outreach import CaseRequestedFromOutreach


def test_a_case_id_is_derived_from_its_origin_and_stable():
    assert case_id_for_origin("contact-1") == case_id_for_origin("contact-1") != case_id_for_origin("contact-2")
    assert case_id_for_origin("contact-1") == "case-e67284fd-fc87-51f5-8b15-fac9bb0cf124", "never changes between releases"
    first = case_id_for_origin("contact-1")
    assert successor_case_id(first) == successor_case_id(first) != first, "a closed case has one next episode"


def test_a_referral_from_reception_opens_a_case_whose_wait_starts_at_the_contact():
    contacted, referred, now = (datetime(2025, 3, d, 9, tzinfo=UTC) for d in (3, 5, 6))
    referral = ReferredToCasework(contact_id="contact-1", person_ref="p-" + "b" * 32, channel="visit", area="addiction",
                                  administration="social-services", gender="female", contacted_at=contacted,
                                  referred_at=referred)
    command = open_case_for(referral, opened_at=now)
    assert (command.case_id, command.origin_id, command.channel, command.first_contact_at, command.opened_at) == (
        case_id_for_origin("contact-1"), "contact-1", "visit", contacted, now)


def test_a_case_requested_from_outreach_is_an_outreach_case_from_the_conversation_that_led_to_it():
    encounter, conversation, requested, now = (datetime(2025, 3, d, 9, tzinfo=UTC) for d in (1, 3, 4, 4))
    request = CaseRequestedFromOutreach(outreach_id="outreach-1", person_ref="p-" + "c" * 32, area="homelessness",
                                        administration="social-services", gender="male", first_encounter_at=encounter,
                                        first_contact_at=conversation, requested_at=requested)
    command = open_case_for(request, opened_at=now)
    assert (command.case_id, command.origin_id, command.channel, command.first_contact_at) == (
        case_id_for_origin("outreach-1"), "outreach-1", "outreach", conversation)
    # A stored version-1 request (before the conversation was recorded) still opens its case, from the encounter.
    v1 = request.model_dump(mode="json", exclude={"first_encounter_at"}) | {"first_contact_at": encounter.isoformat()}
    old = OpenCasesFromReferrals.registry.decode("CaseRequestedFromOutreach", 1, v1)
    assert open_case_for(old, opened_at=now).first_contact_at == encounter
