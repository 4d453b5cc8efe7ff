"""The command line says what is wrong in one line when the platform is not there."""

import pytest
from typer.testing import CliRunner

from insight.__main__ import cli


@pytest.mark.parametrize("command", [["rebuild", "--grace", "0"], ["serve", "--port", "18004"]])
def test_unreachable_postgres_is_one_line_and_exit_code_1(monkeypatch, command):
    monkeypatch.setenv("VANTRUM_POSTGRES__DSN", "postgresql://postgres@127.0.0.1:1/vantrum")
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and "rebuilding views" not in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("insight: PostgreSQL unreachable at 127.0.0.1:1/vantrum")

