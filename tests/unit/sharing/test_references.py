"""A partner's reference: an HMAC of the person made for that partner alone, never the person_ref itself."""

import re

from hypothesis import given
from hypothesis import strategies as st

from sharing.references import reference, webhook_secret

SECRET = b"test-secret-of-the-sharing-service"
refs = st.from_regex(r"p-[0-9a-f]{32}", fullmatch=True)


@given(refs)
def test_one_person_one_reference_per_partner_and_different_ones_at_two_partners(person_ref):
    at_ria = reference(SECRET, "ria", person_ref)
    assert re.fullmatch(r"r-[0-9a-f]{32}", at_ria)
    assert at_ria == reference(SECRET, "ria", person_ref), "stable: a second consent joins up at the partner"
    assert at_ria != reference(SECRET, "bryggan", person_ref)
    assert person_ref[2:] not in at_ria
    assert at_ria != reference(b"another-secret-of-the-sharing-svc", "ria", person_ref), "keyed"


def test_two_people_differ_and_webhook_secrets_differ_per_partner():
    assert reference(SECRET, "ria", "p-" + "0" * 32) != reference(SECRET, "ria", "p-" + "1" * 32)
    assert webhook_secret(SECRET, "ria").startswith("whsec_")
    assert webhook_secret(SECRET, "ria") != webhook_secret(SECRET, "bryggan")
