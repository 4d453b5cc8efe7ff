"""The command line against the real PostgreSQL with Kafka missing: one line, exit code 1."""

import pytest
from typer.testing import CliRunner

from insight.__main__ import cli

pytestmark = pytest.mark.integration


def test_unreachable_kafka_is_one_line_naming_where(monkeypatch, ns):
    monkeypatch.setenv("VANTRUM_KAFKA__BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("VANTRUM_DB_SCHEMA", f"{ns}_insight")
    result = CliRunner().invoke(cli, ["rebuild", "--grace", "0"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and "rebuilding views" not in line]
    assert len(lines) == 1 and lines[0].startswith("insight: Kafka unreachable at 127.0.0.1:1"), result.stderr
