"""Who may do what on Kafka: the ACLs of each service's principal and of each partner's, as data.

Nothing here is kept by hand beside the event catalogue: a service may write the topics it owns
(``asyncapi.PRODUCERS``), read the topics that carry an event it handles (``asyncapi.CONSUMERS``), and use the
consumer groups named after it. The broker refuses everything else (``allow.everyone.if.no.acl.found=false``).
``eventkit.kafka_admin`` applies these rules; ``python -m contracts.kafka_access`` prints them as the table in
docs/kafka-security.md (a unit test keeps the page equal to it). Pure: nothing here connects to Kafka.
"""

from __future__ import annotations

import sys
from typing import Literal, NamedTuple

from eventkit import erasure

from . import topics
from .asyncapi import CONSUMERS, PRODUCERS

Resource = Literal["TOPIC", "GROUP", "CLUSTER"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"]
CLUSTER = "kafka-cluster"
"""The one name a CLUSTER resource has."""


class Acl(NamedTuple):
    """ALLOW ``operation`` on the resource(s) ``name`` names (exactly, or every name starting so)."""

    resource: Resource
    name: str
    pattern: Pattern
    operation: Operation


SHARING = "sharing"
"""Writes every partner's referrals and reads every partner's statuses (PREFIXED ``partner.``)."""
SERVICES = sorted({owner for owner, _, _ in PRODUCERS.values() if owner != erasure.PRODUCER} | set(CONSUMERS))
"""One principal each: the topics' owners and the consumers."""
EVERY_SERVICE_TOUCHES = (topics.DEAD_LETTERS, topics.ERASURES)
"""Every service's runtime makes sure these exist at start (eventkit.runtime), whether it writes them or not."""
INSIGHT_GENERATIONS = "vantrum.insight."
"""Insight's view generations each consume under a group of their own, ``vantrum.<db_schema>.g<n>.<random>``
(insight.generations); its other groups are named after it like everybody's."""


def reads(service: str) -> list[str]:
    """Topics carrying an event the service applies: its handlers subscribe to exactly these."""
    handled = CONSUMERS.get(service, ("", frozenset()))[1]
    return sorted(topic for topic, (_, _, registry) in PRODUCERS.items() if handled & registry.type_names)


def writes(service: str) -> list[str]:
    """The topics it owns, the erasure topic for a service with an ``erase`` command (every owner of a topic,
    eventkit.cli) and the dead-letter topic for a consumer (its inbox announces what it parks there)."""
    owned = [topic for topic, (owner, _, _) in PRODUCERS.items() if owner == service]
    return sorted({*owned, *([topics.ERASURES] if owned else []), *([topics.DEAD_LETTERS] if service in CONSUMERS or service == SHARING else [])})


def groups(service: str) -> list[str]:
    """Prefixes of the consumer groups the service uses (a handler's group is its name: ``<service>.<what>``)."""
    if service not in CONSUMERS and service != SHARING:
        return []
    return [f"{service}.", *([INSIGHT_GENERATIONS] if service == "insight" else [])]


def service_acls(service: str, prefix: str = "") -> list[Acl]:
    """Everything ``service``'s principal may do; ``prefix`` is ``KafkaSettings.topic_prefix`` (tests' namespaces)."""
    read, write = reads(service), writes(service)
    acls = [Acl("CLUSTER", CLUSTER, "LITERAL", "DESCRIBE_CONFIGS")]  # the brokers' default replication factor
    for topic in sorted({*read, *write, *EVERY_SERVICE_TOUCHES}):
        # CREATE: whichever service starts first creates the topic (eventkit.kafka.ensure_topics).
        acls += [Acl("TOPIC", prefix + topic, "LITERAL", op) for op in ("DESCRIBE", "DESCRIBE_CONFIGS", "CREATE")]
        acls += [Acl("TOPIC", prefix + topic, "LITERAL", "READ")] if topic in read else []
        acls += [Acl("TOPIC", prefix + topic, "LITERAL", "WRITE")] if topic in write else []
    for group in groups(service):
        name = group if group == INSIGHT_GENERATIONS else prefix + group
        acls += [Acl("GROUP", name, "PREFIXED", op) for op in ("READ", "DESCRIBE")]
    if service == SHARING:
        partners = prefix + topics.PARTNER_TOPIC_PREFIX
        acls += [Acl("TOPIC", partners, "PREFIXED", op)
                 for op in ("DESCRIBE", "DESCRIBE_CONFIGS", "CREATE", "ALTER_CONFIGS", "WRITE", "READ")]
    return acls


def allows(acls: list[Acl], resource: Resource, name: str, operation: Operation) -> bool:
    """Whether ``acls`` let ``operation`` on ``name`` through, matched as Kafka's StandardAuthorizer matches."""
    return any(acl.resource == resource and acl.operation == operation
               and (name.startswith(acl.name) if acl.pattern == "PREFIXED" else name == acl.name) for acl in acls)


def partner_principal(partner: str) -> str:
    return f"partner-{partner}"


def partner_group(partner: str) -> str:
    """The prefix of the consumer groups a partner may use (``partner-<code>``, ``partner-<code>-test``, …)."""
    return f"partner-{partner}"


def partner_acls(partner: str, prefix: str = "") -> list[Acl]:
    """A partner reads its own referrals and writes its own statuses: nothing else exists for it."""
    referrals, statuses = prefix + topics.partner_referrals(partner), prefix + topics.partner_statuses(partner)
    return [Acl("TOPIC", referrals, "LITERAL", "READ"), Acl("TOPIC", referrals, "LITERAL", "DESCRIBE"),
            Acl("TOPIC", statuses, "LITERAL", "WRITE"), Acl("TOPIC", statuses, "LITERAL", "DESCRIBE"),
            Acl("GROUP", prefix + partner_group(partner), "PREFIXED", "READ")]


def table() -> str:
    """The ACLs of every service principal and of a partner, as the Markdown table in docs/kafka-security.md."""
    rows = ["| principal | resource | name | pattern | operations |", "|---|---|---|---|---|"]
    principals = [(f"`{s}`", service_acls(s)) for s in SERVICES] + [("`partner-<code>`", partner_acls("<code>"))]
    for principal, acls in principals:
        merged: dict[tuple[str, str, str], list[str]] = {}
        for acl in acls:
            merged.setdefault((acl.resource, acl.name, acl.pattern), []).append(acl.operation)
        for (resource, name, pattern), operations in merged.items():
            rows.append(f"| {principal} | {resource} | `{name}` | {pattern} | {', '.join(operations)} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table())
