"""The command line says what is wrong in one line when the platform is not there."""

import os
import subprocess
import sys


def test_unreachable_postgres_is_one_line_and_exit_code_1():
    env = os.environ | {"VANTRUM_POSTGRES__DSN": "postgresql://postgres@127.0.0.1:1/vantrum"}
    result = subprocess.run([sys.executable, "-m", "outreach", "serve", "--port", "18999"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("outreach: PostgreSQL unreachable at 127.0.0.1:1/vantrum")
