"""The command line says what is wrong in one line when the platform is not there."""

import os
import subprocess
import sys


def test_unreachable_postgres_is_one_line_and_exit_code_1():
    env = os.environ | {"VANTRUM_POSTGRES__DSN": "postgresql://postgres@127.0.0.1:1/vantrum"}
    result = subprocess.run([sys.executable, "-m", "intake", "serve", "--port", "18999"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("intake: PostgreSQL unreachable at 127.0.0.1:1/vantrum")


def test_a_missing_pseudonym_key_in_production_is_one_line_naming_the_variable_and_exit_code_1():
    env = {k: v for k, v in os.environ.items() if k != "VANTRUM_PSEUDONYM_KEY"} | {"VANTRUM_MODE": "production"}
    result = subprocess.run([sys.executable, "-m", "intake", "serve", "--port", "18999"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("intake: invalid settings: VANTRUM_PSEUDONYM_KEY is not set")
    assert "secrets.token_urlsafe(48)" in result.stderr


def test_a_weak_pseudonym_key_is_refused_by_every_command_without_printing_it():
    weak = "short-key-of-twenty9-bytes-xx"
    env = os.environ | {"VANTRUM_MODE": "production", "VANTRUM_PSEUDONYM_KEY": weak}
    for command in (["serve", "--port", "18999"], ["parked"], ["dead-letters"]):
        result = subprocess.run([sys.executable, "-m", "intake", *command], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1, command
        assert result.stderr.count("\n") == 1, result.stderr
        assert "VANTRUM_PSEUDONYM_KEY is shorter than 32 bytes" in result.stderr
        assert weak not in result.stderr + result.stdout


def test_a_setting_that_is_no_number_is_one_line_naming_the_variable():
    env = os.environ | {"VANTRUM_PORT": "eighty"}
    result = subprocess.run([sys.executable, "-m", "intake", "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("intake: invalid settings: VANTRUM_PORT: Input should be a valid integer")
    assert "eighty" not in result.stderr


def test_the_openapi_document_needs_no_pseudonym_key():
    env = {k: v for k, v in os.environ.items() if k != "VANTRUM_PSEUDONYM_KEY"} | {"VANTRUM_MODE": "production"}
    result = subprocess.run([sys.executable, "-m", "intake", "openapi"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert '"openapi"' in result.stdout
