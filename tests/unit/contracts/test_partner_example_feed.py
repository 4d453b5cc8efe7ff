"""The partner starter (deploy/partner-example) carries its own copy of the partner feed, so it runs without
Väntrum's code: the copy must describe exactly the messages contracts.partner_feed defines."""

import importlib.util
import sys
from pathlib import Path

import pytest

from contracts import partner_feed

FEED = Path(__file__).parents[3] / "deploy" / "partner-example" / "feed.py"


def load_copy():
    spec = importlib.util.spec_from_file_location("partner_example_feed", FEED)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the postponed annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["ReferralOffered", "ReferralWithdrawn", "ReferralStatus"])
def test_the_starters_copy_of_each_message_has_the_contracts_schema(name):
    copy = getattr(load_copy(), name)
    assert copy.model_json_schema() == getattr(partner_feed, name).model_json_schema()


def test_the_copy_imports_nothing_of_vantrum():
    source = FEED.read_text()
    assert "contracts" not in source.replace("shared/contracts/partner_feed.py", "") and "eventkit" not in source
