"""Outside dev and test, the settings refuse a pseudonym key that anyone could know or guess."""

import pytest
from pydantic import ValidationError

from eventkit.settings import DEV_PSEUDONYM_KEY, Settings

STRONG = "x" * 32


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch):
    monkeypatch.delenv("VANTRUM_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("VANTRUM_MODE", raising=False)


def refusal(**given) -> str:
    with pytest.raises(ValidationError) as refused:
        Settings(**given)
    [error] = refused.value.errors(include_input=False)
    assert error["type"] == "weak_pseudonym_key"
    assert "VANTRUM_PSEUDONYM_KEY" in error["msg"] and "secrets.token_urlsafe(48)" in error["msg"]
    return error["msg"]


def test_production_is_the_default_and_refuses_to_start_without_a_key():
    assert "is not set" in refusal()


def test_production_refuses_the_published_development_key():
    assert "development key" in refusal(pseudonym_key=DEV_PSEUDONYM_KEY)


def test_production_refuses_a_key_shorter_than_32_bytes_without_printing_it():
    short = "a-secret-only-31-bytes-long-xyz"
    assert len(short) == 31
    msg = refusal(pseudonym_key=short)
    assert "shorter than 32 bytes" in msg
    with pytest.raises(ValidationError) as refused:
        Settings(pseudonym_key=short)
    assert short not in str(refused.value) and short not in repr(refused.value)


def test_production_takes_a_strong_key_from_the_environment(monkeypatch):
    monkeypatch.setenv("VANTRUM_PSEUDONYM_KEY", STRONG)
    assert Settings().pseudonym_key.get_secret_value() == STRONG
    assert Settings().mode == "production"


@pytest.mark.parametrize("mode", ["dev", "test"])
def test_dev_and_test_accept_the_development_key(monkeypatch, mode):
    monkeypatch.setenv("VANTRUM_MODE", mode)
    assert Settings().pseudonym_key.get_secret_value() == DEV_PSEUDONYM_KEY


def test_an_unknown_mode_is_refused(monkeypatch):
    monkeypatch.setenv("VANTRUM_MODE", "staging")
    with pytest.raises(ValidationError) as refused:
        Settings(pseudonym_key=STRONG)
    assert refused.value.errors()[0]["loc"] == ("mode",)
