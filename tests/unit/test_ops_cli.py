"""The operator's command line mounts each service's own commands under its name, one implementation of each."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def commands(*path: str) -> str:
    """``python -m deploy.ops … --help`` as an operator runs it, from the repository's root."""
    result = subprocess.run([sys.executable, "-m", "deploy.ops", *path, "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env=os.environ | {"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_replays_rebuild_and_erasure_are_the_services_own_commands_under_their_names():
    assert {"status", "lag", "waiting", "intake", "outreach", "casework", "insight"} <= set(commands().split())
    assert {"parked", "dead-letters", "erase", "audit-verify"} <= set(commands("casework").split())
    insight = set(commands("insight").split())
    assert "rebuild" in insight and "dead-letters" in insight
    assert "erase" not in insight, "the read side may not delete keys"
    assert "asks for the personnummer" in commands("intake", "erase")
