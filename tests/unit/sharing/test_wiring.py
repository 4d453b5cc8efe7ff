"""The service's consumers share one inbox (the service's schema), which records each event once: no two of them
may apply the same event type, or the second would take it for a duplicate and skip it."""

from sharing import app as wiring
from sharing.settings import SharingSettings


def test_no_two_consumers_apply_the_same_event_type():
    settings = SharingSettings(mode="dev")
    stores = [make(None, settings) for make in wiring.STORES]
    handlers = [make(stores, settings) for make in wiring.HANDLERS]
    assert len({h.name for h in handlers}) == len(handlers), "one consumer group each"
    seen: dict[tuple[str, str], str] = {}  # (inbox schema, event type) → consumer
    for handler in handlers:
        for type_name in handler.registry.type_names:
            key = (handler.schema, type_name)
            assert key not in seen, f"{type_name} is applied by both {seen[key]} and {handler.name} from one inbox"
            seen[key] = handler.name
        # The notices' consumer keeps its inbox beside the notice store (sharing.notifications), where housekeeping
        # and the monitor look too; every other one in the service's schema, where the kit's commands look.
        assert handler.schema in {store.schema for store in stores}, "inboxes beside one of the service's stores"
        assert handler.schema == stores[0].schema or handler.name.endswith("notices.follow-people")
