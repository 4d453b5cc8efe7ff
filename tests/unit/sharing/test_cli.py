"""The command line says what is wrong in one line, and production refuses the published development secret."""

import os
import subprocess
import sys


def run(*command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sharing", *command], env=os.environ | env, capture_output=True,
                          text=True, timeout=60)


def test_unreachable_postgres_is_one_line_and_exit_code_1():
    result = run("serve", "--port", "18997", VANTRUM_POSTGRES__DSN="postgresql://postgres@127.0.0.1:1/vantrum")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("sharing: PostgreSQL unreachable at 127.0.0.1:1/vantrum")


def test_production_needs_a_sharing_secret_of_its_own():
    result = run("serve", "--port", "18997", VANTRUM_MODE="production", VANTRUM_PSEUDONYM_KEY="x" * 40)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "VANTRUM_SHARING_SECRET" in result.stderr and "dev-only" not in result.stderr


def test_the_commands_every_write_service_has():
    result = run("--help")
    for command in ("serve", "openapi", "erase", "parked", "dead-letters", "audit"):
        assert command in result.stdout, command
