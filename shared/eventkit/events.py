"""Domain events as frozen pydantic models, and the registry that names and versions them.

A published event's schema never changes in place: a new shape gets a new
``version`` and an upcaster that lifts the older data, so every reader only
ever sees the current model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError


class Event(BaseModel):
    """Base class for domain events. The class name is the CloudEvents ``type``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: ClassVar[int] = 1

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__


class UnknownEvent(ValueError):
    """The registry has no event of that type or cannot upcast from that version."""


class InvalidEventData(ValueError):
    """The data does not fit the event's schema; the message names the field."""


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventRegistry:
    """Maps type names to event classes and lifts old versions to the current one."""

    def __init__(self, *event_classes: type[Event]) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for cls in event_classes:
            self.register(cls)

    def register(self, cls: type[Event]) -> type[Event]:
        self._classes[cls.type_name()] = cls
        return cls

    def upcaster(self, type_name: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: ``@registry.upcaster("ContactOpened", 1)`` turns v1 data into v2 data."""

        def add(function: Upcaster) -> Upcaster:
            self._upcasters[(type_name, from_version)] = function
            return function

        return add

    def __contains__(self, type_name: str) -> bool:
        return type_name in self._classes

    @property
    def type_names(self) -> frozenset[str]:
        return frozenset(self._classes)

    def event_class(self, type_name: str) -> type[Event]:
        return self._classes[type_name]

    def decode(self, type_name: str, version: int, data: dict[str, Any]) -> Event:
        cls = self._classes.get(type_name)
        if cls is None:
            raise UnknownEvent(f"unknown event type {type_name!r}")
        if version > cls.version:
            raise UnknownEvent(f"{type_name} v{version} is newer than this reader (v{cls.version})")
        while version < cls.version:
            upcast = self._upcasters.get((type_name, version))
            if upcast is None:
                raise UnknownEvent(f"no upcaster for {type_name} from v{version}")
            data, version = upcast(dict(data)), version + 1
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "(root)"
            raise InvalidEventData(f"{type_name}.{field}: {first['msg']}") from None

    @staticmethod
    def encode(event: Event) -> tuple[str, int, dict[str, Any]]:
        return event.type_name(), event.version, event.model_dump(mode="json")
