import json
from pathlib import Path

from contracts import asyncapi, topics

SAVED = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


def test_saved_asyncapi_matches_the_event_schemas():
    assert json.loads(SAVED.read_text()) == asyncapi.specification(), (
        "docs/asyncapi.json is stale: .venv/bin/python -m contracts.asyncapi > docs/asyncapi.json"
    )


def test_every_published_event_is_described_on_its_topic():
    spec = asyncapi.specification()
    schemas = spec["components"]["schemas"]
    for topic, (_, registry) in asyncapi.PUBLISHED.items():
        assert topic in spec["channels"]
        assert registry.type_names <= set(schemas), f"{topic}: missing {registry.type_names - set(schemas)}"
    assert set(asyncapi.PUBLISHED) == set(topics.ALL) - {topics.DEAD_LETTERS}
