import pytest

from eventkit.events import Event, EventRegistry, InvalidEventData, UnknownEvent


class Renamed(Event):
    version = 2
    display_name: str
    reason: str


def make_registry() -> EventRegistry:
    registry = EventRegistry(Renamed)

    @registry.upcaster("Renamed", 1)
    def name_became_display_name(data):
        data["display_name"] = data.pop("name")
        data.setdefault("reason", "unknown")
        return data

    return registry


def test_old_versions_are_upcast_to_the_current_model():
    event = make_registry().decode("Renamed", 1, {"name": "Ria"})
    assert event == Renamed(display_name="Ria", reason="unknown")


def test_encode_names_type_and_version():
    assert EventRegistry.encode(Renamed(display_name="x", reason="y")) == ("Renamed", 2, {"display_name": "x", "reason": "y"})


def test_unknown_type_and_future_version_are_refused():
    registry = make_registry()
    with pytest.raises(UnknownEvent, match="unknown event type 'Nope'"):
        registry.decode("Nope", 1, {})
    with pytest.raises(UnknownEvent, match="newer than this reader"):
        registry.decode("Renamed", 3, {})


def test_invalid_data_names_the_field():
    with pytest.raises(InvalidEventData, match="Renamed.reason: Field required"):
        make_registry().decode("Renamed", 2, {"display_name": "x"})


def test_events_are_immutable():
    event = Renamed(display_name="x", reason="y")
    with pytest.raises(Exception):
        event.reason = "z"
