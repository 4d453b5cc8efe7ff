"""The event catalogue: an AsyncAPI 3.0 document of every topic and event type, and the page docs/events.md.

    .venv/bin/python -m contracts.asyncapi > docs/asyncapi.json
    .venv/bin/python -m contracts.asyncapi catalogue > docs/events.md

Each event type is its own message: its payload schema (from the pydantic model), the CloudEvents headers it
travels with (``ce_type``, ``ce_source``, … in Kafka binary mode) and which of its fields are personal. The
producers are the topics' owners; the consumers are named in CONSUMERS, which a test keeps equal to the event
registries of the services' real handlers. Unit tests keep both files equal to what this generates and check
the document against the AsyncAPI 3.0.0 JSON Schema. Nothing here connects to Kafka.
"""

from __future__ import annotations

import inspect
import json
import sys
import typing

from pydantic.json_schema import models_json_schema

from eventkit import erasure
from eventkit.envelope import cloud_type
from eventkit.events import Event, EventRegistry

from . import casework, feedback, intake, outreach, sharing, topics, vocabulary

PRODUCERS: dict[str, tuple[str, str, EventRegistry]] = {
    topics.INTAKE_CONTACTS: ("intake", "Reception contacts; stream id contact-<uuid>", intake.registry),
    topics.OUTREACH_CONTACTS: ("outreach", "Outreach contacts; stream id outreach-<uuid>", outreach.registry),
    topics.CASEWORK_CASES: ("casework", "Cases, one stream per episode; stream id case-<uuid>", casework.registry),
    topics.FEEDBACK: ("feedback", "Wait questions and follow-ups (stream case-<case id>), complaints "
                      "(complaint-<uuid>), visit ratings (ratings-<unit>-<day>)", feedback.registry),
    topics.SHARING_PARTNERS: ("sharing", "The partner directory (HSDS-shaped); stream id partner-<code>",
                              sharing.directory),
    topics.SHARING_CONSENTS: ("sharing", "Consents to partners, the referrals they allow and the partners' statuses "
                              "back; stream id consent-<uuid>", sharing.consents),
    topics.SHARING_NOTICES: ("sharing", "Notifications across administrations, one stream per recipient; stream id "
                             "notice-<uuid>", sharing.notices),
    topics.ERASURES: (erasure.PRODUCER, "People erased (their keys deleted) by the erase command of any write "
                      "service; stream id erasure-<subject id>", erasure.registry),
}
"""Topic → (the service that publishes it, what a stream on it is, its events)."""

CONSUMERS: dict[str, tuple[str, frozenset[str]]] = {
    "casework": ("opens one case for every referral (casework.referrals); keeps the partner referrals and statuses "
                 "of each case's person for the case read (casework.partners)",
                 frozenset({"ReferredToCasework", "CaseRequestedFromOutreach", "ConsentGiven", "PartnerReferralSent",
                            "PartnerStatusReported", "ConsentWithdrawn", "ConsentExpired", "PersonErased"})),
    "insight": ("projects case journeys into the read side's views (insight.projections)",
                frozenset({"ContactOpened", "IncomeSupportAsked", "ReferredToCasework", "ContactClosedWithoutCase",
                           "ContactLinkedToOpenCase", "EncounterRecorded", "PersonIdentified",
                           "CaseRequestedFromOutreach", "CaseOpened", "StageChanged", "HandlerAssigned",
                           "HandlerChanged", "StaffMet", "MeetingHeld", "ContactAttempted", "DecisionMade", "SipOffered",
                           "SipDeclined", "SipEstablished", "CaseTransferred", "CaseClosed", "PersonErased",
                           # and its feedback views (insight.projections.feedback)
                           "WaitQuestionsAnswered", "VisitRatingsRecorded", "ComplaintReceived", "ComplaintContactMade",
                           "ComplaintAnswered", "ComplaintClosed", "FollowUpScheduled", "FollowUpDue",
                           "FollowUpAnswered",
                           # the notification feed and the partner figures (insight.projections.notices, .partners)
                           "NoticeRaised", "NoticeAcknowledged", "PartnerRegistered", "PartnerDetailsChanged",
                           "PartnerDelisted", "ConsentGiven", "ConsentWithdrawn", "ConsentExpired",
                           "PartnerReferralSent", "PartnerStatusReported"})),
    "intake": ("keeps which people have an open case, so a returning person's contact joins it (intake.open_cases)",
               frozenset({"CaseOpened", "CaseClosed"})),
    "feedback": ("keeps a view of each case for the client's page, schedules the one-year follow-up at closure and "
                 "deletes an erased person's free text (feedback.cases)",
                 frozenset({"CaseOpened", "StageChanged", "HandlerAssigned", "HandlerChanged", "MeetingScheduled",
                            "MeetingHeld", "CaseTransferred", "CaseClosed", "PersonErased"})),
    "sharing": ("queues what each partner receives from its own consents (sharing.feed), withdraws the consents "
                "of an erased person or of a partner leaving the directory (sharing.reactions), and follows people's "
                "contacts, cases and passings between administrations to notify them (sharing.notifications.people)",
                frozenset({"PartnerReferralSent", "ConsentWithdrawn", "ConsentExpired", "PersonErased",
                           "PartnerDelisted",
                           "ContactOpened", "AffiliationDetermined", "ReferredToCasework", "ContactClosedWithoutCase",
                           "ContactLinkedToOpenCase", "EncounterRecorded", "PersonIdentified",
                           "CaseRequestedFromOutreach", "CaseOpened", "CaseTransferred", "CaseClosed"})),
}
"""Service → (what it does with them, the event types it applies; others on its topics it passes over)."""

PERSONAL: dict[object, tuple[str, str]] = {
    vocabulary.PersonRef: ("pseudonym", "the person's random subject id (eventkit.keyring); names nobody once erased"),
    vocabulary.AliasRef: ("pseudonym", "the subject id of an outreach alias; names nobody once erased"),
    vocabulary.Gender: ("characteristic", "a characteristic of the person, sealed with their own key (eventkit.sealing)"),
    vocabulary.FreeText: ("free text", "free text staff wrote about the person's situation, such as a place or a "
                          "reason, sealed with their own key (eventkit.sealing)"),
    vocabulary.StaffId: ("staff id", "identifies a staff member"),
}
"""The rule for personal fields: a field is personal when its type is one of these vocabulary types, which
identify or describe a person on their own. Every event is about one person's case and so is personal data as a
whole (linked through person_ref or the stream id); the marked fields are the ones that need care beyond that,
e.g. in exports, logs and erasure."""

SOURCE_PREFIX = "vantrum/"
KAFKA_BINDING = "0.5.0"
CLOUDEVENTS = (
    "CloudEvents 1.0 in Kafka binary mode: the attributes in `ce_*` headers, the event's JSON as the value, and the "
    "stream id as the key, so one stream stays ordered in one partition."
)


def personal_fields(cls: type[Event]) -> dict[str, str]:
    """Field → what kind of personal field (PERSONAL), for the fields of ``cls`` whose type is, or holds, one."""
    def kinds(hint: object) -> list[str]:
        if hint in PERSONAL:
            return [PERSONAL[hint][0]]
        return [kind for arg in typing.get_args(hint) for kind in kinds(arg)]

    hints = typing.get_type_hints(cls, include_extras=True)
    return {name: found[0] for name in cls.model_fields if (found := kinds(hints[name]))}


def _headers(producer: str, cls: type[Event]) -> dict:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_subject", "ce_time", "ce_dataschema",
                     "ce_schemaversion", "content-type"],
        "properties": {
            "ce_specversion": {"const": "1.0"},
            "ce_id": {**text, "format": "uuid", "description": "The event id; consumers skip an id they applied"},
            "ce_source": {"const": SOURCE_PREFIX + producer},
            "ce_type": {"const": cloud_type(SOURCE_PREFIX + producer, cls.type_name()),
                        "description": "Namespaced; the last dot-separated part is the event's name, as records from "
                                       "before the namespace carry it alone (readers take both)"},
            "ce_subject": {**text, "description": "The stream id (also the record's key)"},
            "ce_time": {**text, "format": "date-time", "description": "When the event was stored"},
            "ce_dataschema": {"const": f"urn:vantrum:event:{cls.type_name()}:v{cls.version}"},
            "ce_schemaversion": {"const": str(cls.version)},
            "ce_sequence": {**text, "pattern": "^[1-9][0-9]*$", "description": "Position in the stream: 1, 2, 3, …"},
            "ce_correlationid": {**text, "description": "The request that started the chain of events"},
            "ce_causationid": {**text, "description": "The event or command that caused this one"},
            "content-type": {"const": "application/json"},
        },
    }


def _message(producer: str, cls: type[Event]) -> dict:
    name = cls.type_name()
    return {
        "name": name,
        "title": name,
        "summary": inspect.cleandoc(cls.__doc__) if cls.__doc__ and cls.__doc__ != Event.__doc__ else name,
        "contentType": "application/json",
        "headers": _headers(producer, cls),
        "payload": {"$ref": f"#/components/schemas/{name}"},
        "correlationId": {"location": "$message.header#/ce_correlationid"},
        "bindings": {"kafka": {"key": {"type": "string", "description": "The stream id"},
                               "bindingVersion": KAFKA_BINDING}},
        "x-producer": producer,
        "x-personal-fields": personal_fields(cls),
    }


def _schemas(classes: list[type[Event]]) -> dict:
    _, top = models_json_schema([(cls, "validation") for cls in classes], ref_template="#/components/schemas/{model}")
    return dict(sorted(top["$defs"].items()))


def specification() -> dict:
    channels, operations, messages, classes = {}, {}, {}, []
    for topic, (producer, what, registry) in PRODUCERS.items():
        events = [registry.event_class(name) for name in sorted(registry.type_names)]
        classes += events
        messages |= {cls.type_name(): _message(producer, cls) for cls in events}
        channels[topic] = {
            "address": topic, "title": topic, "description": f"{what}. Published by {producer}. {CLOUDEVENTS}",
            "messages": {cls.type_name(): {"$ref": f"#/components/messages/{cls.type_name()}"} for cls in events},
            "bindings": {"kafka": {"topic": topic, "partitions": 3, "replicas": 3,
                                   "topicConfiguration": {"retention.ms": -1, "retention.bytes": -1},
                                   "bindingVersion": KAFKA_BINDING}},
        }
        operations[f"{producer}.publish"] = {
            "action": "send", "title": f"{producer} publishes", "channel": {"$ref": f"#/channels/{topic}"},
            "messages": [{"$ref": f"#/channels/{topic}/messages/{cls.type_name()}"} for cls in events]}
        for consumer, (does, handled) in CONSUMERS.items():
            if read := [cls for cls in events if cls.type_name() in handled]:
                operations[f"{consumer}.receive.{topic}"] = {
                    "action": "receive", "title": f"{consumer} {does}", "channel": {"$ref": f"#/channels/{topic}"},
                    "messages": [{"$ref": f"#/channels/{topic}/messages/{cls.type_name()}"} for cls in read]}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Väntrum events", "version": "1",
                 "description": "Domain events between the services, one message per event type."},
        "defaultContentType": "application/json",
        "servers": {"development": {"host": "127.0.0.1:19092", "protocol": "kafka",
                                    "description": "The local Kafka of deploy/local/servers.py"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas(classes)},
    }


def _type_of(schema: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " or ".join(_type_of(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type_of(schema['items'])}"
    return schema.get("format", schema.get("type", "?"))


def catalogue(spec: dict) -> str:
    """docs/events.md: per topic, each event with its producer, consumers, fields and which fields are personal."""
    lines = ["# Event catalogue", "",
             "Generated from `shared/contracts` by `python -m contracts.asyncapi catalogue > docs/events.md`; a unit "
             "test fails when this page is stale. The machine-readable form is `docs/asyncapi.json` (AsyncAPI 3.0).",
             "", CLOUDEVENTS + " Headers of every event: `ce_specversion`, `ce_id`, `ce_source` (`vantrum/<producer>`), "
             "`ce_type` (`se.vantrum.<producer>.<event>`; its last part is the event's name, which older records "
             "carry alone and readers still take), `ce_subject` (the stream id), `ce_time`, `ce_dataschema` "
             "(`urn:vantrum:event:<type>:v<version>`), `ce_schemaversion`, `ce_sequence`, `ce_correlationid`, "
             "`ce_causationid`, `content-type`.", "",
             "**Personal fields** (marked 🔒): a field is personal when its type is one of these vocabulary types "
             "(`shared/contracts/vocabulary.py`), which identify or describe a person on their own:", "",
             *(f"- `{_alias(t)}` ({label}): {why}" for t, (label, why) in PERSONAL.items()), "",
             "Every event is about one person's case, so each is personal data as a whole (linked through "
             "`person_ref` or the stream id); the marked fields are the ones that need care beyond that, in exports, "
             "logs and erasure.", ""]
    operations = spec["operations"]
    for topic, channel in spec["channels"].items():
        lines += [f"## `{topic}`", "", channel["description"].split(f" {CLOUDEVENTS}")[0], ""]
        for ref in channel["messages"].values():
            name = ref["$ref"].rsplit("/", 1)[-1]
            message, schema = spec["components"]["messages"][name], spec["components"]["schemas"][name]
            consumers = sorted(op.split(".")[0] for op, o in operations.items() if o["action"] == "receive"
                               and any(m["$ref"].endswith(f"/messages/{name}") for m in o["messages"]))
            lines += [f"### {name}", "", message["summary"] if message["summary"] != name else "", "",
                      f"Producer: **{message['x-producer']}** · consumers: "
                      + (", ".join(f"**{c}**" for c in consumers) or "none yet") + "", "",
                      "| field | type | required | personal | meaning |", "| --- | --- | --- | --- | --- |"]
            required = set(schema.get("required", []))
            for field, field_schema in schema["properties"].items():
                personal = message["x-personal-fields"].get(field)
                meaning = " ".join(field_schema.get("description", "").split()).replace("|", "/")
                lines.append(f"| `{field}` | {_type_of(field_schema)} | {'yes' if field in required else 'no'} | "
                             f"{'🔒 ' + personal if personal else ''} | {meaning} |")
            lines.append("")
    return "\n".join(line for i, line in enumerate(lines) if line or (i and lines[i - 1])).rstrip() + "\n"


def _alias(hint: object) -> str:
    return next(name for name, value in vars(vocabulary).items() if value is hint)


if __name__ == "__main__":
    if sys.argv[1:] == ["catalogue"]:
        sys.stdout.write(catalogue(specification()))
    else:
        print(json.dumps(specification(), indent=2, ensure_ascii=False))
