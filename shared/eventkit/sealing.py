"""Crypto-shredding: a person's fields in events are sealed with that person's own data key.

Events are immutable and Kafka keeps them forever (a rebuild needs the whole log),
so a person cannot be erased by deleting their events. Instead every personal
field is encrypted (AES-256-GCM) with a key that belongs to the person alone; to
erase the person, the key is deleted (``eventkit.keyring``) and every copy of
those fields, on the bus, in event stores, in backups, becomes noise at once.

Contracts say which fields are personal and whose they are, with two markers:

- ``Subject(rank)`` on a reference to a person (``person_ref``, ``alias_ref``): the
  event's *subject* is the value of its subject field of lowest rank. An event that
  names none belongs to its stream's subject (a case's later events are the person's
  of its ``CaseOpened``).
- ``Personal(erased=...)`` on a field whose value is the person's (gender, free text):
  sealed on write; once the key is gone it reads as ``erased``, so an old event still
  validates and a rebuild still succeeds.

A sealed value is a string, ``sealed:v1:<subject>:<base64url(nonce ‖ ciphertext)>``,
self-describing so any reader can find the key. The field name and subject are
the AES-GCM associated data: a sealed value moved to another field or person fails.

Pure: no I/O. The keys come from ``eventkit.keyring``.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, get_args

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from .events import EventRegistry

PREFIX = "sealed:v1:"
KEY_BYTES = 32
_NONCE_BYTES = 12
_TOKEN = re.compile(r"sealed:v1:(p-[0-9a-f]{32}):([A-Za-z0-9_-]+)")
_SUBJECTS_IN_BYTES = re.compile(rb"sealed:v1:(p-[0-9a-f]{32}):")


@dataclass(frozen=True)
class Subject:
    """Marks a field that names a person; the lowest ``rank`` present is the event's subject."""

    rank: int = 0


@dataclass(frozen=True)
class Personal:
    """Marks a field holding a person's data; ``erased`` is what it reads as once their key is deleted."""

    erased: Any


class SealingError(ValueError):
    """A sealed value that cannot be opened although its key exists (tampered, or moved between fields)."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


@dataclass(frozen=True)
class Layout:
    """Which fields of one event class name its subject, and which are personal."""

    subjects: tuple[str, ...]  # by rank
    personal: Mapping[str, Personal]


@cache
def layout(cls: type[BaseModel]) -> Layout:
    subjects: list[tuple[int, str]] = []
    personal: dict[str, Personal] = {}
    for name, info in cls.model_fields.items():
        # An optional field (``Phone | None``) keeps its type's markers inside the union, not in the field's own.
        inner = [m for arg in get_args(info.annotation) for m in getattr(arg, "__metadata__", ())]
        for mark in [*info.metadata, *inner]:
            if isinstance(mark, Subject):
                subjects.append((mark.rank, name))
            elif isinstance(mark, Personal):
                personal[name] = mark
    return Layout(tuple(name for _, name in sorted(subjects)), personal)


def subjects_of(cls: type[BaseModel], data: Mapping[str, Any]) -> list[str]:
    """The people an event's data names, its subject first."""
    return [data[name] for name in layout(cls).subjects if data.get(name)]


def seal(cls: type[BaseModel], data: dict[str, Any], subject: str | None, key: bytes | None) -> dict[str, Any]:
    """``data`` (an encoded event) with its personal fields sealed with ``key``.

    Without a key (the subject is already erased, or the stream names nobody) the fields get their
    ``erased`` value: what cannot be sealed is never kept in clear."""
    fields = layout(cls).personal
    if not fields:
        return data
    sealed = dict(data)
    for name, mark in fields.items():
        value = data.get(name)
        if value is None:
            continue
        if subject is None or key is None:
            sealed[name] = _plain(mark.erased)
            continue
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, json.dumps(value).encode(), _aad(subject, name))
        sealed[name] = PREFIX + subject + ":" + base64.urlsafe_b64encode(nonce + ciphertext).rstrip(b"=").decode()
    return sealed


def open_sealed(cls: type[BaseModel] | None, data: dict[str, Any], keys: Mapping[str, bytes]) -> dict[str, Any]:
    """``data`` with every sealed value opened; a value whose key is gone reads as its field's ``erased`` value."""
    opened = dict(data)
    for name, value in data.items():
        if not (isinstance(value, str) and value.startswith(PREFIX)):
            continue
        match = _TOKEN.fullmatch(value)
        if match is None:
            raise SealingError(f"{name}: malformed sealed value")
        subject, blob = match.groups()
        key = keys.get(subject)
        if key is None:
            mark = layout(cls).personal.get(name) if cls else None
            if mark is None:
                raise SealingError(f"{name}: sealed, erased, and not a personal field of this event")
            opened[name] = _plain(mark.erased)
            continue
        raw = base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4))
        try:
            opened[name] = json.loads(AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(subject, name)))
        except InvalidTag:
            raise SealingError(f"{name}: sealed value does not open with its subject's key") from None
    return opened


def opened(registry: EventRegistry, type_name: str, data: dict[str, Any], keys: Mapping[str, bytes]) -> dict[str, Any]:
    """``open_sealed`` for an event of ``type_name`` as ``registry`` knows it (a type it does not know is opened
    without its layout: a sealed value whose key is gone is then an error, not an erased value)."""
    cls = registry.event_class(type_name) if type_name in registry else None
    return open_sealed(cls, data, keys)


def sealed_subjects(values: Iterable[Any]) -> set[str]:
    """The subjects whose keys are needed to open these encoded events (dicts) or raw record values (bytes)."""
    found: set[str] = set()
    for value in values:
        if isinstance(value, bytes | bytearray):
            found.update(m.decode() for m in _SUBJECTS_IN_BYTES.findall(value))
        elif isinstance(value, Mapping):
            found.update(m.group(1) for v in value.values() if isinstance(v, str) and (m := _TOKEN.fullmatch(v)))
    return found


def _aad(subject: str, field: str) -> bytes:
    return f"{subject}:{field}".encode()


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # an enum member as its JSON value
