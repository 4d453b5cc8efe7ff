"""The service's consumers share one inbox (the service's schema), which records each event once: no two of them
may apply the same event type, or the second would take it for a duplicate and skip it."""

from sharing import app as wiring
from sharing.settings import SharingSettings


def test_no_two_consumers_apply_the_same_event_type():
    settings = SharingSettings(mode="dev")
    stores = [make(None, settings) for make in wiring.STORES]
    handlers = [make(stores, settings) for make in wiring.HANDLERS]
    assert len({h.name for h in handlers}) == len(handlers), "one consumer group each"
    seen: dict[str, str] = {}
    for handler in handlers:
        for type_name in handler.registry.type_names:
            assert type_name not in seen, f"{type_name} is applied by both {seen[type_name]} and {handler.name}"
            seen[type_name] = handler.name
        assert handler.schema == stores[0].schema, "inboxes and dead letters where the kit's commands look"
