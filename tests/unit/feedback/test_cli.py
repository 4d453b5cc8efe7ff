"""The command line says what is wrong in one line, and a shifted clock is refused in production."""

import os
import subprocess
import sys


def run(*command: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "feedback", *command], env=os.environ | env, capture_output=True,
                          text=True, timeout=60)


def test_unreachable_postgres_is_one_line_and_exit_code_1():
    result = run("serve", "--port", "18998", VANTRUM_POSTGRES__DSN="postgresql://postgres@127.0.0.1:1/vantrum")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("feedback: PostgreSQL unreachable at 127.0.0.1:1/vantrum")


def test_a_shifted_clock_is_refused_in_production():
    result = run("serve", "--port", "18998", VANTRUM_MODE="production", VANTRUM_PSEUDONYM_KEY="x" * 40,
                 VANTRUM_CLOCK_SHIFT="P400D")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert "VANTRUM_CLOCK_SHIFT is for tests and demos" in result.stderr


def test_the_openapi_document_needs_no_pseudonym_key():
    result = run("openapi", VANTRUM_MODE="production")
    assert result.returncode == 0, result.stderr
    assert '"openapi"' in result.stdout
