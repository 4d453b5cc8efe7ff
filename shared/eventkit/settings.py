"""Settings from the environment (prefix ``VANTRUM_``, nested with ``__``).

``deploy/local/servers.py env`` prints the values for the local servers; users
with their own Kafka or PostgreSQL set the same variables to point at them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .limits import Limits


DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"
"""The key the local scripts and tests use: published in this repository, so only ``dev`` and ``test`` accept it."""
MIN_PSEUDONYM_KEY_BYTES = 32
MAKE_A_KEY = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


class KafkaSettings(BaseModel):
    """Where the brokers are and who the service is to them (``VANTRUM_KAFKA__…``); docs/kafka-security.md.

    Every Kafka client the project makes takes its connection from ``eventkit.kafka.client_options``, so these
    fields reach the producer, the consumers, the admin client and FastStream alike."""

    bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = ""
    """Prepended to every topic name; tests use it to get a namespace of their own."""
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    """``SASL_SSL`` on a managed cluster; the local broker (deploy/local/servers.py) speaks ``SASL_PLAINTEXT``."""
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    sasl_username: str | None = None
    """The service's principal (``User:<name>`` to the broker's ACLs); required with a ``SASL_*`` protocol."""
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = None
    """PEM file of the CA that signed the brokers' certificates; empty: the system's trusted CAs."""
    ssl_certfile: str | None = None
    """Client certificate (PEM), for a cluster that authenticates clients by TLS (``SSL``) instead of SASL."""
    ssl_keyfile: str | None = None
    ssl_keyfile_password: SecretStr | None = None

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def signed_in_as(self, username: str, password: str) -> KafkaSettings:
        """The same cluster, reached as another SASL principal (a test's partner, an operator's admin)."""
        protocol = self.security_protocol if self.uses_sasl else "SASL_SSL" if self.uses_tls else "SASL_PLAINTEXT"
        return self.model_copy(update={"security_protocol": protocol, "sasl_username": username,
                                       "sasl_password": SecretStr(password)})

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _sasl_needs_credentials(self) -> KafkaSettings:
        if self.uses_sasl and not (self.sasl_username and self.sasl_password):
            raise ValueError(f"VANTRUM_KAFKA__SECURITY_PROTOCOL={self.security_protocol} needs "
                             "VANTRUM_KAFKA__SASL_USERNAME and VANTRUM_KAFKA__SASL_PASSWORD")
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ValueError("a client certificate needs its key: set both VANTRUM_KAFKA__SSL_CERTFILE and "
                             "VANTRUM_KAFKA__SSL_KEYFILE, or neither")
        return self


class PostgresSettings(BaseModel):
    dsn: str = "postgresql://postgres@127.0.0.1:15432/vantrum"
    user: str | None = None
    """Log in as this role rather than the DSN's user (``Settings.login`` sets it from ``db_role``)."""
    min_connections: int = 1
    max_connections: int = 10


class BackgroundSettings(BaseModel):
    """How the background loops (relays, consumers, monitors) restart, report and tidy up."""

    restart_first_delay: float = Field(0.5, gt=0)
    """Seconds before a failed background task runs again; doubles with each failure in a row."""
    restart_max_delay: float = Field(30.0, gt=0)
    """The most a failed task waits before it runs again (so it is back within this after an outage ends)."""
    monitor_interval: float = Field(5.0, gt=0)
    """Seconds between measurements of outbox backlogs and consumer lag."""
    ready_max_lag: int = Field(10_000, ge=0)
    """``/health/ready`` fails while a consumer is more records than this behind."""
    outbox_retention_days: float = Field(7.0, gt=0)
    """Sent outbox rows are deleted after this; unsent and parked rows never are."""
    inbox_retention_days: float = Field(30.0, gt=0)
    """Inbox rows (ids of applied events, the duplicate guard) are deleted after this. It must outlast any
    outage of a relay (which re-sends what it published but had not marked): OutboxNotDraining pages within minutes."""
    housekeeping_interval: float = Field(3600.0, gt=0)
    """Seconds between retention runs."""
    shutdown_grace: float = Field(10.0, gt=0)
    """Seconds each shutdown step (tasks, producer flush, pool) may take before it is forced."""


SIGNATURE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
"""Public-key signatures: a token is checked against the identity provider's published keys, never a shared secret."""


class AuthSettings(BaseModel):
    """Staff sign-in: the OpenID Connect provider whose access tokens the services accept (``eventkit.auth``).

    Locally ``deploy/local/servers.py`` runs Keycloak with the ``vantrum`` realm; a municipality points
    ``issuer`` at its own provider (``VANTRUM_AUTH__ISSUER``), whose tokens must carry the claims named here."""

    enabled: bool = True
    """False turns sign-in off: nobody is asked for a token and every role check passes. Development only."""
    issuer: str = "http://127.0.0.1:18080/realms/vantrum"
    """Tokens must name exactly this issuer (``iss``); its OpenID configuration says where the keys are."""
    audience: str = "vantrum-api"
    """Tokens must be meant for the Väntrum APIs (``aud``); an ID token or one for another client is refused."""
    discovery_url: str | None = None
    """Where to read the OpenID configuration when the provider is reached at another address than ``issuer``
    (say, inside a cluster); by default ``<issuer>/.well-known/openid-configuration``."""
    algorithms: list[str] = ["RS256", "ES256"]
    """Signature algorithms accepted; only public-key ones may be named (never ``none`` or ``HS*``)."""
    leeway: float = Field(10.0, ge=0, le=60)
    """Seconds of clock difference tolerated on ``exp``, ``nbf`` and ``iat``."""
    staff_claim: str = "preferred_username"
    """The claim holding the staff id (what the access log records as *who*)."""
    roles_claim: str = "roles"
    """The claim holding the list of roles; dots walk into objects (Keycloak also has ``realm_access.roles``)."""
    administration_claim: str = "administration"
    """The claim holding the staff member's administration (förvaltning), e.g. ``social-services`` or ``amf``."""
    keys_refresh_interval: float = Field(10.0, ge=0)
    """At least this many seconds between fetches of the provider's keys: a token signed with an unknown key
    makes the next fetch (key rotation), but a flood of made-up key ids cannot turn into a flood of fetches."""
    keys_max_age: float = Field(3600.0, gt=0)
    """Keys are fetched again after this many seconds, so a key the provider withdrew stops being accepted."""
    fetch_timeout: float = Field(5.0, gt=0)

    @field_validator("algorithms")
    @classmethod
    def _public_key_algorithms_only(cls, algorithms: list[str]) -> list[str]:
        refused = [a for a in algorithms if a not in SIGNATURE_ALGORITHMS]
        if refused or not algorithms:
            raise ValueError(f"only public-key signature algorithms may be accepted ({', '.join(SIGNATURE_ALGORITHMS)}),"
                             f" not {refused or 'none at all'}")
        return algorithms


class Settings(BaseSettings):
    """Shared by every service; a service subclasses it to add its own fields."""

    # hide_input_in_errors: a refused setting (the pseudonym key, a DSN with its password) is never printed.
    model_config = SettingsConfigDict(env_prefix="VANTRUM_", env_nested_delimiter="__", extra="ignore",
                                      hide_input_in_errors=True)

    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    mode: Literal["production", "dev", "test"] = "production"
    """``VANTRUM_MODE``: ``dev`` and ``test`` (set by scripts/demo.sh and scripts/test.sh) may use the published
    development pseudonym key; ``production``, the default, refuses to start without a strong key of its own."""
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    """``VANTRUM_PSEUDONYM_KEY``: key of the HMAC that turns a personnummer into a person reference. In production
    it must be set, secret and at least 32 bytes: with ~3.7×10^7 valid personnummer, anyone who knows the key
    can reverse a reference by trying them all in about a minute."""
    db_schema: str = "public"
    """PostgreSQL schema of the service's own tables (named so: ``schema`` would shadow a pydantic attribute)."""
    db_role: str | None = None
    """``VANTRUM_DB_ROLE``: the role the service logs in as, instead of the DSN's user (which then only lends its
    password, if any). Each service defaults to its own, ``vantrum_<service>`` (``eventkit.provision``); empty:
    the DSN's user."""
    port: int = 8000
    log_json: bool = False
    log_level: str = "INFO"
    limits: Limits = Limits()
    """Largest request a write API accepts (``VANTRUM_LIMITS__MAX_BODY_BYTES``, ``__MAX_LIST_ITEMS``, ``__MAX_TEXT_CHARS``)."""
    background: BackgroundSettings = BackgroundSettings()
    auth: AuthSettings = AuthSettings()
    """Staff sign-in: the identity provider and the claims (``VANTRUM_AUTH__ISSUER``, ``__AUDIENCE``, ``__ENABLED``, …)."""

    @property
    def login(self) -> PostgresSettings:
        """Where and as whom the service connects."""
        return self.postgres.model_copy(update={"user": self.db_role or None})

    @model_validator(mode="after")
    def _pseudonym_key_is_strong(self) -> Settings:
        if self.mode != "production":
            return self
        key = self.pseudonym_key.get_secret_value()
        if "pseudonym_key" not in self.model_fields_set:
            problem = "is not set"
        elif key == DEV_PSEUDONYM_KEY:
            problem = "is the published development key"
        elif len(key.encode()) < MIN_PSEUDONYM_KEY_BYTES:
            problem = f"is shorter than {MIN_PSEUDONYM_KEY_BYTES} bytes"
        else:
            return self
        raise PydanticCustomError(
            "weak_pseudonym_key",
            f"VANTRUM_PSEUDONYM_KEY {problem}: in production (VANTRUM_MODE unset or 'production') it must be a secret "
            f"of your own of at least {MIN_PSEUDONYM_KEY_BYTES} bytes; make one with {MAKE_A_KEY} "
            f"(VANTRUM_MODE=dev or test accepts the development key, for local use only)")
