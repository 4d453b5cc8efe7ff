from datetime import UTC, datetime
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eventkit.envelope import Envelope, InvalidEnvelope, event_name, from_record, to_record

envelopes = st.builds(
    Envelope,
    id=st.uuids(),
    source=st.text(min_size=1, max_size=20),
    type=st.from_regex(r"[A-Z][A-Za-z]{2,20}", fullmatch=True),
    subject=st.text(min_size=1, max_size=40),
    time=st.datetimes(timezones=st.just(UTC)),
    schemaversion=st.integers(1, 9),
    data=st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=20) | st.booleans()),
    sequence=st.none() | st.integers(1, 10**6),
    correlationid=st.none() | st.text(min_size=1, max_size=20),
    causationid=st.none() | st.text(min_size=1, max_size=20),
)


@given(envelopes)
def test_an_envelope_survives_the_trip_through_kafka_headers(envelope):
    record = to_record(envelope, "intake.contact.v1")
    assert from_record(record.value, record.headers) == envelope
    assert record.key == envelope.subject.encode()


def test_a_record_with_the_old_bare_type_still_reads():
    envelope = Envelope(id=uuid4(), source="vantrum/casework", type="CaseOpened", subject="case-1",
                        time=datetime(2026, 1, 5, 9, 30, tzinfo=UTC), schemaversion=1, data={})
    record = to_record(envelope, "t")
    old = [(k, b"CaseOpened" if k == "ce_type" else v) for k, v in record.headers]
    assert from_record(record.value, old) == from_record(record.value, record.headers) == envelope
    assert event_name("se.vantrum.casework.CaseOpened") == "CaseOpened" == event_name("CaseOpened")


def test_headers_follow_cloudevents_binary_mode():
    envelope = Envelope(id=uuid4(), source="vantrum/intake", type="ContactOpened", subject="contact-1",
                        time=datetime(2026, 1, 5, 9, 30, tzinfo=UTC), schemaversion=2, data={"a": 1})
    headers = dict(to_record(envelope, "t").headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"se.vantrum.intake.ContactOpened", "namespaced on the wire"
    assert headers["ce_dataschema"] == b"urn:vantrum:event:ContactOpened:v2"
    assert headers["ce_time"] == b"2026-01-05T09:30:00+00:00"
    assert headers["content-type"] == b"application/json"


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"{}", [], "missing CloudEvents header(s): ce_id, ce_source, ce_type, ce_specversion"),
        (b"{}", [("ce_specversion", b"0.3"), ("ce_id", b"x"), ("ce_source", b"s"), ("ce_type", b"T")],
         "unsupported ce_specversion '0.3'"),
        (b"[1]", [("ce_specversion", b"1.0"), ("ce_id", b"x"), ("ce_source", b"s"), ("ce_type", b"T")],
         "value must be a JSON object"),
        (b"{}", [("ce_specversion", b"1.0"), ("ce_id", b"not-a-uuid"), ("ce_source", b"s"), ("ce_type", b"T"),
                 ("ce_subject", b"s"), ("ce_time", b"2026-01-01T00:00:00Z")], "bad header ce_id"),
    ],
)
def test_unreadable_records_say_why(value, headers, reason):
    with pytest.raises(InvalidEnvelope, match=reason.replace("(", r"\(").replace(")", r"\)")):
        from_record(value, headers)


@pytest.mark.parametrize("data", [{"n": 2**70}, {"x": float("nan")}, {"s": "\ud800"}])
def test_values_the_fast_json_parser_refuses_still_read_as_the_standard_library_reads_them(data):
    """orjson (the hot path) refuses integers beyond 64 bits, NaN and lone surrogates; json.dumps writes them."""
    envelope = Envelope(id=uuid4(), source="vantrum/intake", type="ContactOpened", subject="contact-1",
                        time=datetime(2026, 1, 5, 9, 30, tzinfo=UTC), schemaversion=1, data=data)
    record = to_record(envelope, "t")
    read = from_record(record.value, record.headers)
    assert read.data.keys() == data.keys() and repr(read.data) == repr(data)
