"""Settings from the environment (prefix ``VANTRUM_``, nested with ``__``).

``deploy/local/servers.py env`` prints the values for the local servers; users
with their own Kafka or PostgreSQL set the same variables to point at them.
"""

from __future__ import annotations

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from .limits import Limits


class KafkaSettings(BaseModel):
    bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = ""
    """Prepended to every topic name; tests use it to get a namespace of their own."""

    def topic(self, name: str) -> str:
        return self.topic_prefix + name


class PostgresSettings(BaseModel):
    dsn: str = "postgresql://postgres@127.0.0.1:15432/vantrum"
    min_connections: int = 1
    max_connections: int = 10


class Settings(BaseSettings):
    """Shared by every service; a service subclasses it to add its own fields."""

    model_config = SettingsConfigDict(env_prefix="VANTRUM_", env_nested_delimiter="__", extra="ignore")

    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    pseudonym_key: SecretStr = SecretStr("dev-only-pseudonym-key-change-me")
    """Key of the HMAC that turns a personnummer into a person reference. Set it in production."""
    db_schema: str = "public"
    """PostgreSQL schema of the service's own tables (named so: ``schema`` would shadow a pydantic attribute)."""
    port: int = 8000
    log_json: bool = False
    log_level: str = "INFO"
    limits: Limits = Limits()
    """Largest request a write API accepts (``VANTRUM_LIMITS__MAX_BODY_BYTES``, ``__MAX_LIST_ITEMS``, ``__MAX_TEXT_CHARS``)."""
