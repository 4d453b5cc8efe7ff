"""The event catalogue: docs/asyncapi.json and docs/events.md are what contracts.asyncapi generates, the document
is valid AsyncAPI 3.0.0, each event type is its own message with its CloudEvents headers, and the producers,
consumers and personal fields it names are the code's.

schemas/asyncapi-3.0.0.json is the AsyncAPI Initiative's JSON Schema (asyncapi/spec-json-schemas v6.11.1,
schemas/3.0.0-without-$id.json, Apache-2.0) with its descriptions and examples dropped.
"""

import json
import re
from pathlib import Path

import jsonschema
import pytest

from casework.app import SOURCE as CASEWORK_SOURCE
from casework.partners import FollowPartnerReferrals
from casework.referrals import OpenCasesFromReferrals
from feedback.app import SOURCE as FEEDBACK_SOURCE
from feedback.cases import FollowCases
from insight.projections.feedback import FeedbackProjection
from insight.projections.notices import NoticeProjection
from insight.projections.partners import PartnerProjection
from intake.open_cases import CasesOfPeople
from contracts import asyncapi, topics
from eventkit import erasure
from eventkit.envelope import Envelope, to_record
from insight.projections.journey import APPLY
from intake.app import SOURCE as INTAKE_SOURCE
from outreach.app import SOURCE as OUTREACH_SOURCE
from sharing.app import SOURCE as SHARING_SOURCE
from sharing.feed import QueueDeliveries
from sharing.notifications.people import FollowPeople
from sharing.reactions import EndConsents


SHARING_HANDLERS = [QueueDeliveries, EndConsents, FollowPeople]
ROOT = Path(__file__).resolve().parents[3]
SPEC = asyncapi.specification()
MESSAGES = SPEC["components"]["messages"]


def test_saved_asyncapi_matches_the_event_schemas():
    assert json.loads((ROOT / "docs" / "asyncapi.json").read_text()) == SPEC, (
        "docs/asyncapi.json is stale: .venv/bin/python -m contracts.asyncapi > docs/asyncapi.json")


def test_the_event_catalogue_page_is_up_to_date():
    assert (ROOT / "docs" / "events.md").read_text() == asyncapi.catalogue(SPEC), (
        "docs/events.md is stale: .venv/bin/python -m contracts.asyncapi catalogue > docs/events.md")


def test_the_document_is_valid_asyncapi_3():
    schema = json.loads((Path(__file__).parent / "schemas" / "asyncapi-3.0.0.json").read_text())
    jsonschema.validate(SPEC, schema, cls=jsonschema.Draft7Validator)
    broken = json.loads(json.dumps(SPEC))
    broken["operations"]["intake.publish"]["action"] = "publish"  # AsyncAPI 2's word: refused in 3.0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft7Validator)


def test_every_reference_points_at_something():
    def resolve(ref: str):
        node = SPEC
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(SPEC))
    assert refs
    for ref in refs:
        assert ref.startswith("#/") and resolve(ref) is not None, ref


def test_each_event_type_is_a_message_of_its_own_on_its_producers_topic():
    published = {name for _, _, registry in asyncapi.PRODUCERS.values() for name in registry.type_names}
    assert set(MESSAGES) == published
    assert sum(len(r.type_names) for _, _, r in asyncapi.PRODUCERS.values()) == len(published), "names are unique"
    assert set(asyncapi.PRODUCERS) == set(topics.ALL) - {topics.DEAD_LETTERS}
    for topic, (producer, _, registry) in asyncapi.PRODUCERS.items():
        assert set(SPEC["channels"][topic]["messages"]) == registry.type_names
        for name in registry.type_names:
            message = MESSAGES[name]
            assert message["payload"] == {"$ref": f"#/components/schemas/{name}"}
            assert SPEC["components"]["schemas"][name]["properties"].keys() == \
                registry.event_class(name).model_fields.keys()
            assert message["headers"]["properties"]["ce_type"]["const"] == f"se.vantrum.{message['x-producer']}.{name}"
            assert message["headers"]["properties"]["ce_source"] == {"const": f"vantrum/{producer}"}


def test_the_producers_sources_are_the_services_own():
    assert {f"vantrum/{producer}" for producer, _, _ in asyncapi.PRODUCERS.values()} == \
        {INTAKE_SOURCE, OUTREACH_SOURCE, CASEWORK_SOURCE, FEEDBACK_SOURCE, SHARING_SOURCE,
         f"vantrum/{erasure.PRODUCER}"}


def test_the_headers_schema_describes_what_the_kit_really_sends():
    event = MESSAGES["CaseOpened"]
    envelope = Envelope(id="8c1f6c1e-2d2e-4f7a-9a55-0d1f3c7b9e10", source=CASEWORK_SOURCE, type="CaseOpened",
                        subject="case-1", time="2026-01-05T10:00:00+01:00", schemaversion=1, data={}, sequence=1,
                        correlationid="c-1", causationid="e-1")
    headers = {name: value.decode() for name, value in to_record(envelope, topics.CASEWORK_CASES).headers}
    jsonschema.validate(headers, event["headers"])
    assert set(headers) == set(event["headers"]["properties"]), "every header the kit sends is described, and no other"


def test_the_consumers_named_are_the_services_real_handlers():
    assert asyncapi.CONSUMERS["casework"][1] == \
        OpenCasesFromReferrals.registry.type_names | FollowPartnerReferrals.registry.type_names
    assert asyncapi.CONSUMERS["insight"][1] == {cls.type_name() for cls in APPLY} | FeedbackProjection.registry.type_names \
        | NoticeProjection.registry.type_names | PartnerProjection.registry.type_names
    assert asyncapi.CONSUMERS["feedback"][1] == FollowCases.registry.type_names
    assert asyncapi.CONSUMERS["intake"][1] == CasesOfPeople.registry.type_names
    assert asyncapi.CONSUMERS["sharing"][1] == frozenset().union(*(h.registry.type_names for h in SHARING_HANDLERS))
    receivers = {op.split(".")[0] for op, o in SPEC["operations"].items() if o["action"] == "receive"}
    assert receivers == set(asyncapi.CONSUMERS)


def test_personal_fields_follow_the_stated_rule():
    marked = {(name, field): kind for name, message in MESSAGES.items()
              for field, kind in message["x-personal-fields"].items()}
    assert marked[("ContactOpened", "person_ref")] == "pseudonym"
    assert marked[("EncounterRecorded", "alias_ref")] == "pseudonym"
    assert marked[("ContactOpened", "gender")] == "characteristic"
    assert marked[("EncounterRecorded", "place")] == "free text"
    assert marked[("CaseTransferred", "reason")] == "free text"
    assert marked[("MeetingHeld", "staff")] == "staff id", "a list of staff ids is personal too"
    assert ("CaseClosed", "reason") not in marked, "a closure reason is a code from a fixed list, not free text"
    assert ("CaseOpened", "administration") not in marked
    every_person_ref = {(n, f) for n, m in MESSAGES.items() for f in SPEC["components"]["schemas"][n]["properties"]
                        if f in ("person_ref", "alias_ref", "gender")}
    # An erasure names a subject whose key and lookup are gone: that id no longer leads to anyone.
    assert every_person_ref - {("PersonErased", "person_ref")} <= marked.keys()
