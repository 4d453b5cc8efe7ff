"""The bulk demo's transport (deploy/demo/bulk.py) turns every step the journeys take into its service's command, as
the service's endpoint would; tests/e2e/test_demo_bulk.py runs it against the real services."""

from __future__ import annotations

import importlib
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from uuid import NAMESPACE_URL, uuid5

from eventkit.pseudonym import normalise_alias, normalise_personnummer

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # deploy/ is run from the repository root
bulk = importlib.import_module("deploy.demo.bulk")
journey = importlib.import_module("deploy.demo.journey")



def normalised(field: str, value: str) -> str:
    return normalise_personnummer(value) if field == "personnummer" else normalise_alias(value)


async def test_the_bulk_transport_makes_every_step_of_the_journeys_into_its_services_command(monkeypatch):
    """Every action a thousand journeys take has its command (a step the journey gains without one fails here, not
    in a demo of ten thousand), and the command carries the body's fields (no database: subject ids faked)."""
    async def subject(pool, key, identifier, kind="pnr"):
        return f"p-{uuid5(NAMESPACE_URL, kind + identifier).hex}"

    monkeypatch.setattr(bulk.keyring, "subject_of", subject)
    made = []

    class Recording(bulk.Bulk):
        async def send(self, step):
            service = self.services[step.service]
            stream_id, command = await self.command(service, step, datetime.now(UTC))
            made.append((step, stream_id, command))
            return {"contact_id": stream_id, "outreach_id": stream_id, "linked_case_id": None}

        async def open_case(self, service, contact_id):
            return None

    fake = {name: bulk.WriteService(name, store=SimpleNamespace(pool=None, schema=name), decider=None, pseudonym_key=b"k")
            for name in bulk.COMMANDS}
    transport, now = Recording(fake), datetime.now(UTC)
    for n in range(1000):
        person = journey.Journey(journey.person_seed(3, n), now)
        entered = await person.entry(transport.send)
        await person.casework(transport.send, entered.case_id)

    taken = {(step.service, step.action) for step, _, _ in made}
    assert taken == {(service, action) for service, actions in bulk.COMMANDS.items() for action in actions}
    for step, stream_id, command in made:
        fields = command.model_dump()
        assert fields.get("case_id", stream_id) == stream_id
        for name, value in step.body.items():
            if name in bulk.SUBJECTS:
                assert fields[bulk.SUBJECTS[name][0]] == await subject(None, b"k", normalised(name, value), bulk.SUBJECTS[name][1])
            elif name.endswith("_at"):
                assert fields[name] == datetime.fromisoformat(value) <= command.recorded_at
            else:
                assert fields[name] == value or list(fields[name]) == value, (step, name)
