"""Unused imports and undefined names are caught here, with the tests, not left for review."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ruff_finds_no_errors():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "shared", "services", "tests", "bench", "deploy"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
