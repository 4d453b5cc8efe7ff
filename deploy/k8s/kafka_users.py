"""The Strimzi KafkaUser of every service, made from the ACL rules (contracts.kafka_access):

    .venv/bin/python deploy/k8s/kafka_users.py > deploy/k8s/base/kafka-users.yaml

A deployment test fails when the file differs from what this prints. Strimzi's User Operator makes each user's
SCRAM-SHA-512 password and keeps it in a Secret named like the user (key ``password``), which the service's
Deployment reads; the broker's simple authorizer then allows that user what its ACLs say and nothing else.
"""

from __future__ import annotations

import sys

import yaml

from contracts import kafka_access

OPERATIONS = {"READ": "Read", "WRITE": "Write", "CREATE": "Create", "DESCRIBE": "Describe",
              "DESCRIBE_CONFIGS": "DescribeConfigs", "ALTER_CONFIGS": "AlterConfigs"}
CLUSTER = "vantrum-kafka"


def acl_rules(acls: list[kafka_access.Acl]) -> list[dict]:
    """Strimzi's form: one rule per resource with its operations (a cluster resource has no name)."""
    merged: dict[tuple[str, str, str], list[str]] = {}
    for acl in acls:
        merged.setdefault((acl.resource, acl.name, acl.pattern), []).append(OPERATIONS[acl.operation])
    rules = []
    for (resource, name, pattern), operations in merged.items():
        target = {"type": "cluster"} if resource == "CLUSTER" else \
            {"type": resource.lower(), "name": name, "patternType": "prefix" if pattern == "PREFIXED" else "literal"}
        rules.append({"resource": target, "operations": operations})
    return rules


def kafka_user(service: str) -> dict:
    return {"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
            "metadata": {"name": service, "labels": {"strimzi.io/cluster": CLUSTER}},
            "spec": {"authentication": {"type": "scram-sha-512"},
                     "authorization": {"type": "simple", "acls": acl_rules(kafka_access.service_acls(service))}}}


def manifest() -> str:
    header = ("# Made by deploy/k8s/kafka_users.py from contracts.kafka_access; do not edit (a test compares).\n"
              "# One principal per service: what it may read, write and create, and its consumer groups.\n")
    return header + yaml.safe_dump_all([kafka_user(s) for s in kafka_access.SERVICES], sort_keys=False, width=120)


if __name__ == "__main__":
    sys.stdout.write(manifest())
