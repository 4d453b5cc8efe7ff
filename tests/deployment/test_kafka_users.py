"""On Kubernetes too, each service signs in to Kafka as its own user whose ACLs are contracts.kafka_access's."""

import importlib.util
from pathlib import Path

import pytest

from contracts import kafka_access

from .k8s import K8S, render_prod_with_examples

# deploy/ is not an installed package (and not on the tests' path): load the generator from its file.
_spec = importlib.util.spec_from_file_location("vantrum_kafka_users", K8S / "kafka_users.py")
kafka_users = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kafka_users)


@pytest.fixture(scope="module")
def prod(tmp_path_factory) -> list[dict]:
    return render_prod_with_examples(tmp_path_factory.mktemp("prod"))


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_the_kafka_users_file_is_what_the_rules_make():
    assert (K8S / "base" / "kafka-users.yaml").read_text() == kafka_users.manifest(), \
        "stale: run .venv/bin/python deploy/k8s/kafka_users.py > deploy/k8s/base/kafka-users.yaml"


def test_every_service_principal_is_a_kafka_user_with_its_acls(prod):
    users = of_kind(prod, "KafkaUser")
    assert sorted(users) == kafka_access.SERVICES
    for name, user in users.items():
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["acls"] == kafka_users.acl_rules(kafka_access.service_acls(name))


def test_the_brokers_take_only_scram_over_tls_and_authorize_every_request(prod):
    (kafka,) = of_kind(prod, "Kafka").values()
    listeners = kafka["spec"]["kafka"]["listeners"]
    assert all(l["tls"] and l["authentication"] == {"type": "scram-sha-512"} for l in listeners)
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    assert "userOperator" in kafka["spec"]["entityOperator"]


def test_each_service_signs_in_as_its_own_user_with_the_password_strimzi_made(prod):
    config = of_kind(prod, "ConfigMap")
    shared = next(c["data"] for name, c in config.items() if name.startswith("vantrum-config"))
    assert shared["VANTRUM_KAFKA__SECURITY_PROTOCOL"] == "SASL_SSL"
    for name, deployment in of_kind(prod, "Deployment").items():
        pod = deployment["spec"]["template"]["spec"]
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        assert env["VANTRUM_KAFKA__SASL_USERNAME"]["value"] == name
        assert env["VANTRUM_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": name, "key": "password"}
        mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        ca = Path(shared["VANTRUM_KAFKA__SSL_CAFILE"])
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[str(ca.parent)])
        assert volume["secret"]["secretName"] == "vantrum-kafka-cluster-ca-cert"
