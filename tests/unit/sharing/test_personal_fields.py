"""The phone number a person shares with a partner is sealed with their key like every personal field, although
its field is optional (the marker sits inside ``Phone | None``), and reads as no number once they are erased."""

from datetime import UTC, datetime

from contracts import sharing
from eventkit.sealing import layout, new_key, open_sealed, seal

NOW = datetime(2026, 3, 5, tzinfo=UTC)
REF = "p-" + "a" * 32


def test_the_optional_phone_is_sealed_and_erased_to_none():
    assert "phone" in layout(sharing.ConsentGiven).personal
    event = sharing.ConsentGiven(consent_id="consent-1", person_ref=REF, partner="ria", purpose="callback_during_wait",
                                 reach_by="phone", phone="070-123 45 67", administration="amf", recorded_by="anna.h",
                                 given_at=NOW, expires_at=NOW)
    key = new_key()
    data = seal(sharing.ConsentGiven, sharing.consents.encode(event)[2], REF, key)
    assert "070" not in data["phone"] and data["phone"].startswith("sealed:v1:")
    assert open_sealed(sharing.ConsentGiven, data, {REF: key})["phone"] == "070-123 45 67"
    erased = open_sealed(sharing.ConsentGiven, data, {})
    assert erased["phone"] is None
    assert sharing.ConsentGiven(**erased).phone is None, "an erased person's consent can still be read"
