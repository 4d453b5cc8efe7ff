"""CloudEvents 1.0 envelope in Kafka *binary* mode.

Attributes travel as ``ce_*`` headers and the event's data is the JSON value, so
any CloudEvents-aware consumer (and a human with kcat) can read our topics.
The Kafka key is the stream id: all events of one case land in one partition
and stay in order.

On the wire ``ce_type`` is namespaced, ``se.vantrum.<source service>.<Event>``
(``se.vantrum.casework.CaseOpened``), as CloudEvents asks of a type; inside, the
envelope keeps the event's own name. Readers take either form, so records from
before the namespace (and their producers) still read, and a consumer matching
the old names compares the last dot-separated part, which is the old name.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"

# CloudEvents attributes we put in headers, with the header name they use.
_REQUIRED = ("id", "source", "type", "specversion")
_HEADER_PREFIX = "ce_"
TYPE_NAMESPACE = "se.vantrum"


def cloud_type(source: str, type_name: str) -> str:
    """``se.vantrum.casework.CaseOpened`` for source ``vantrum/casework`` and event ``CaseOpened``."""
    return f"{TYPE_NAMESPACE}.{source.rsplit('/', 1)[-1]}.{type_name}"


def event_name(ce_type: str) -> str:
    """The event's own name from a namespaced type, or the type as it is (an older record's bare name)."""
    return ce_type.rsplit(".", 1)[-1] if ce_type.startswith(TYPE_NAMESPACE + ".") else ce_type


class InvalidEnvelope(ValueError):
    """A Kafka record that is not a CloudEvent we can read; the message is the reason."""


class Envelope(BaseModel):
    """One event as it travels between services."""

    model_config = ConfigDict(frozen=True)

    id: UUID
    source: str
    type: str
    subject: str
    time: datetime
    schemaversion: int
    data: dict[str, Any]
    sequence: int | None = None
    correlationid: str | None = None
    causationid: str | None = None

    @property
    def dataschema(self) -> str:
        return f"urn:vantrum:event:{self.type}:v{self.schemaversion}"


class KafkaRecord(BaseModel):
    """What goes on the wire: key, value and headers, ready for a producer."""

    model_config = ConfigDict(frozen=True)

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def to_record(envelope: Envelope, topic: str) -> KafkaRecord:
    attributes: dict[str, str] = {
        "specversion": SPEC_VERSION,
        "id": str(envelope.id),
        "source": envelope.source,
        "type": cloud_type(envelope.source, envelope.type),
        "subject": envelope.subject,
        "time": envelope.time.isoformat(),
        "dataschema": envelope.dataschema,
        "schemaversion": str(envelope.schemaversion),
    }
    optional = {
        "sequence": envelope.sequence,
        "correlationid": envelope.correlationid,
        "causationid": envelope.causationid,
    }
    attributes |= {name: str(value) for name, value in optional.items() if value is not None}
    headers = [(_HEADER_PREFIX + name, value.encode()) for name, value in attributes.items()]
    headers.append(("content-type", CONTENT_TYPE.encode()))
    return KafkaRecord(
        topic=topic,
        key=envelope.subject.encode(),
        value=json.dumps(envelope.data, separators=(",", ":"), default=str).encode(),
        headers=headers,
    )


_ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "schemaversion", "sequence",
               "correlationid", "causationid")
"""The CloudEvents attributes a reader takes (``dataschema`` follows from type and version; others are ignored)."""
_HEADERS = tuple((_HEADER_PREFIX + name, name) for name in _ATTRIBUTES)


def from_record(value: bytes | None, headers: list[tuple[str, bytes]] | tuple) -> Envelope:
    """Read a Kafka record back into an envelope, or say precisely why it cannot be read.

    On the consumers' hot path (a rebuild reads every event of the log): the headers are looked up, not scanned
    with a test per header, and the value is parsed by orjson; pydantic still validates every attribute."""
    by_name = dict(headers)  # a repeated header: the last one, as before
    attributes = {name: raw.decode("utf-8", errors="replace") for header, name in _HEADERS
                  if (raw := by_name.get(header)) is not None}
    if missing := [name for name in _REQUIRED if name not in attributes]:
        raise InvalidEnvelope(f"missing CloudEvents header(s): {', '.join('ce_' + m for m in missing)}")
    if (version := attributes.pop("specversion")) != SPEC_VERSION:
        raise InvalidEnvelope(f"unsupported ce_specversion {version!r}")
    attributes["data"] = json_object(value)
    attributes.setdefault("schemaversion", "1")
    attributes["type"] = event_name(attributes["type"])
    try:
        return Envelope.model_validate(attributes)
    except ValidationError as error:
        first = error.errors()[0]
        raise InvalidEnvelope(f"bad header ce_{first['loc'][0]}: {first['msg']}") from None


def json_object(value: bytes | None) -> dict[str, Any]:
    """The record's value as a JSON object: orjson (several times faster), the standard library for what orjson
    refuses (NaN, lone surrogates) or might read differently (it reads an integer beyond 64 bits as a float,
    silently: a value with any float in it is read again; our events carry none), and for the reason when it is not
    JSON."""
    value = value or b""
    try:
        data = orjson.loads(value)
        if type(data) is dict and _has_float(data):
            data = json.loads(value)
    except orjson.JSONDecodeError:
        try:
            data = json.loads(value)
        except ValueError as error:
            raise InvalidEnvelope(f"value is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidEnvelope("value must be a JSON object")
    return data


def _has_float(data: dict | list) -> bool:
    for item in data.values() if type(data) is dict else data:
        kind = type(item)
        if kind is float or ((kind is dict or kind is list) and _has_float(item)):
            return True
    return False
