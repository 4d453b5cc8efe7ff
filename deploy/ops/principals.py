"""Kafka principals for the operator: each service's (``kafka-principals``) and a partner's (``partner-access``).

The rules are ``contracts.kafka_access``; ``eventkit.kafka_admin`` applies them through the Kafka protocol, signed
in as the operator's own principal (``VANTRUM_KAFKA__SASL_USERNAME``: the local ``admin``, a super user, or on a
managed cluster a user allowed to alter ACLs and SCRAM users).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from contracts import kafka_access
from eventkit import kafka_admin
from eventkit.settings import KafkaSettings


def new_password() -> str:
    return secrets.token_urlsafe(24)


def read_credentials(path: Path) -> dict[str, str]:
    return json.loads(path.read_text()) if path.exists() else {}


def write_credentials(path: Path, credentials: dict[str, str]) -> None:
    """Only the owner may read it: it holds every service's password."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(credentials, indent=2) + "\n")


async def service_principals(kafka: KafkaSettings, credentials: Path) -> dict[str, tuple[int, int]]:
    """A SCRAM user per service (password made once, kept in ``credentials``) whose ACLs are exactly its rules;
    idempotent. Service → ACL bindings (added, deleted)."""
    known = read_credentials(credentials)
    made = {s: known.get(s) or new_password() for s in kafka_access.SERVICES}
    if any(known.get(s) != password for s, password in made.items()):
        write_credentials(credentials, {**known, **made})
    return {service: await kafka_admin.apply_principal(kafka, service, password,
                                                       kafka_access.service_acls(service, kafka.topic_prefix))
            for service, password in made.items()}


async def partner_access(kafka: KafkaSettings, partner: str, password: str | None) -> tuple[int, int]:
    """The partner's SCRAM user and its ACLs (only its own referral and status topics); idempotent."""
    return await kafka_admin.apply_principal(kafka, kafka_access.partner_principal(partner), password,
                                             kafka_access.partner_acls(partner, kafka.topic_prefix))
