"""deploy/k8s renders (kustomize), every manifest passes Kubernetes' and the operators' schemas, and what it
says agrees with the code: the topics of shared/contracts, the settings' variable names, the health endpoints."""

from __future__ import annotations

import base64
import copy
import importlib
import inspect
import os
import re
import shutil
import subprocess
from collections import Counter
from urllib.parse import unquote, urlsplit

import pytest

from contracts import topics
from eventkit.kafka import UNLIMITED_RETENTION, ensure_topics
from eventkit.permissions import RULES
from eventkit.provision import READER, service_roles
from eventkit.settings import PostgresSettings, Settings

from .k8s import K8S, ROOT, build, problems, render, render_prod_with_examples

SERVICES = list(RULES)
"""Every service, from the permissions table (one entry per service); a test checks it against services/."""
PARTITIONS = inspect.signature(ensure_topics).parameters["partitions"].default
HELPER_VARIABLES = {"VANTRUM_DB_PASSWORD"}
"""Not a setting: the database password, set from its Secret so VANTRUM_POSTGRES__DSN can name it as $(…)."""


def settings_class(name: str) -> type[Settings]:
    """The service's settings: the one Settings subclass its ``<service>.settings`` module defines."""
    module = importlib.import_module(f"{name}.settings")
    (cls,) = [c for c in vars(module).values()
              if isinstance(c, type) and issubclass(c, Settings) and c.__module__ == module.__name__]
    return cls


def variable_names(cls: type, prefix: str = "VANTRUM_") -> set[str]:
    """Every environment variable pydantic-settings reads for ``cls`` (nested models joined with __)."""
    names = set()
    for field_name, field in cls.model_fields.items():
        name = prefix + field_name.upper()
        names.add(name)
        if isinstance(field.annotation, type) and hasattr(field.annotation, "model_fields"):
            names |= variable_names(field.annotation, name + "__")
    return names


@pytest.fixture(scope="module")
def dev() -> list[dict]:
    return render(K8S / "overlays" / "dev")


@pytest.fixture(scope="module")
def prod(tmp_path_factory) -> list[dict]:
    return render_prod_with_examples(tmp_path_factory.mktemp("prod"))


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_rendered_manifest_passes_the_kubernetes_and_operator_schemas(overlay, request):
    docs = request.getfixturevalue(overlay)
    kinds = Counter(d["kind"] for d in docs)
    assert {"Kafka", "KafkaNodePool", "KafkaTopic", "Cluster", "Deployment", "Service", "HorizontalPodAutoscaler",
            "NetworkPolicy", "Secret", "ConfigMap", "Job"} <= kinds.keys()
    refused = {f"{d['kind']}/{d['metadata']['name']}": found for d in docs if (found := problems(d))}
    assert not refused, refused
    assert all(d["metadata"]["namespace"] == {"dev": "vantrum-dev", "prod": "vantrum"}[overlay] for d in docs)


BROKEN = {
    "replicas as a string": ("Deployment", lambda d: d["spec"].__setitem__("replicas", "2")),
    "an unknown field in a Kafka spec": ("Kafka", lambda d: d["spec"]["kafka"].__setitem__("replicationFactor", 3)),
    "partitions as a string": ("KafkaTopic", lambda d: d["spec"].__setitem__("partitions", "three")),
    "a Cluster without instances as a number": ("Cluster", lambda d: d["spec"].__setitem__("instances", "3")),
    "a probe on a port field misspelt": ("Deployment", lambda d: d["spec"]["template"]["spec"]["containers"][0]
                                         ["readinessProbe"]["httpGet"].__setitem__("prot", 8001)),
    "a NetworkPolicy with an unknown policy field": ("NetworkPolicy", lambda d: d["spec"].__setitem__("deny", True)),
    "a managed role's password secret misspelt": ("Cluster", lambda d: d["spec"]["managed"]["roles"][0]
                                                  .__setitem__("passwordSecrets", {"name": "x"})),
    "a Job whose backoffLimit is a string": ("Job", lambda d: d["spec"].__setitem__("backoffLimit", "twelve")),
}


@pytest.mark.parametrize("breakage", BROKEN, ids=list(BROKEN))
def test_a_broken_manifest_is_refused(dev, breakage):
    kind, break_it = BROKEN[breakage]
    doc = copy.deepcopy(next(d for d in dev if d["kind"] == kind))
    assert problems(doc) == []
    break_it(doc)
    assert problems(doc), f"{breakage} was not refused"


def test_kafka_is_three_kraft_brokers_replicating_each_write_to_two_at_least(prod):
    (pool,) = of_kind(prod, "KafkaNodePool").values()
    (kafka,) = of_kind(prod, "Kafka").values()
    assert pool["spec"]["replicas"] == 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
    assert "zookeeper" not in kafka["spec"]
    config = kafka["spec"]["kafka"]["config"]
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == (3, 2)
    assert config["offsets.topic.replication.factor"] == 3 and config["auto.create.topics.enable"] is False


def test_every_contract_topic_is_a_kafka_topic_kept_for_ever_with_three_replicas(prod):
    kafka_topics = {t["spec"]["topicName"]: t["spec"] for t in of_kind(prod, "KafkaTopic").values()}
    assert sorted(kafka_topics) == sorted(topics.ALL)
    for name, spec in kafka_topics.items():
        assert (spec["partitions"], spec["replicas"], spec["config"]["min.insync.replicas"]) == (PARTITIONS, 3, 2), name
        assert {k: str(spec["config"][k]) for k in UNLIMITED_RETENTION} == UNLIMITED_RETENTION, name


def test_postgres_is_three_instances_bootstrapped_with_the_owner_secret(prod):
    (cluster,) = of_kind(prod, "Cluster").values()
    assert cluster["spec"]["instances"] == 3
    secret = cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"]
    assert secret in of_kind(prod, "Secret"), "the Cluster names a Secret the overlay renders (no hash suffix)"
    assert of_kind(prod, "Secret")[secret]["type"] == "kubernetes.io/basic-auth"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_service_runs_with_its_port_probes_and_real_setting_names(overlay, request):
    docs = request.getfixturevalue(overlay)
    deployments, services = of_kind(docs, "Deployment"), of_kind(docs, "Service")
    maps = {**of_kind(docs, "ConfigMap"), **of_kind(docs, "Secret")}
    assert set(deployments) == set(SERVICES) == {p.name for p in (ROOT / "services").iterdir()
                                                 if (p / p.name / "app.py").exists()}
    for name, deployment in deployments.items():
        known = variable_names(settings_class(name)) | HELPER_VARIABLES
        port = settings_class(name).model_fields["port"].default
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["command"] == ["python", "-m", name, "serve", "--host", "0.0.0.0", "--port", str(port)]
        assert container["ports"] == [{"name": "http", "containerPort": port}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        used = {e["name"] for e in container["env"]}
        for source in container["envFrom"]:
            ref = source.get("configMapRef") or source["secretRef"]
            used |= set(maps[ref["name"]].get("data", {}))
        assert used <= known, f"{name}: {sorted(used - known)} are not settings of {settings_class(name).__name__}"
        assert {"VANTRUM_KAFKA__BOOTSTRAP_SERVERS", "VANTRUM_POSTGRES__DSN", "VANTRUM_PSEUDONYM_KEY",
                "VANTRUM_AUTH__ISSUER", "VANTRUM_MODE"} <= used
        assert services[name]["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


def test_a_drain_takes_one_replica_of_a_service_at_a_time(prod):
    budgets = of_kind(prod, "PodDisruptionBudget")
    assert set(budgets) == set(SERVICES)
    deployments = of_kind(prod, "Deployment")
    for name, budget in budgets.items():
        assert budget["spec"]["maxUnavailable"] == 1
        assert budget["spec"]["selector"] == deployments[name]["spec"]["selector"]


def test_autoscaling_stops_at_the_partition_count(prod):
    autoscalers = of_kind(prod, "HorizontalPodAutoscaler")
    assert set(autoscalers) == set(SERVICES)
    for name, hpa in autoscalers.items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"] <= PARTITIONS


def test_network_policies_deny_by_default_and_let_the_services_reach_only_kafka_postgres_and_the_provider(prod):
    policies = of_kind(prod, "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    services = policies["services"]["spec"]
    assert services["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "service"}
    reached = sorted(port["port"] for rule in services["egress"] for port in rule["ports"])
    assert reached == [443, 5432, 9092]
    for deployment in of_kind(prod, "Deployment").values():
        assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "service"


def test_no_secret_value_is_committed_for_production(prod):
    overlay = K8S / "overlays" / "prod"
    examples = sorted(overlay.glob("*.env.example"))
    expected = ({"db.env.example", "oidc.env.example", "secrets.env.example", "feedback.env.example",
                 "sharing.env.example"}
                | {f"db-{s}.env.example" for s in SERVICES})
    assert {e.name for e in examples} == expected
    for example in examples:
        assert "REPLACE_ME" in example.read_text()
        ignored = subprocess.run(["git", "check-ignore", "-q", str(example.with_suffix(""))], cwd=ROOT)
        assert ignored.returncode == 0, f"{example.with_suffix('').name} would be committed"
    committed = subprocess.run(["git", "ls-files", str(overlay)], cwd=ROOT, capture_output=True, text=True).stdout
    assert not [line for line in committed.splitlines() if line.endswith(".env")]


def test_production_does_not_render_until_its_secrets_are_filled_in(tmp_path):
    prod = tmp_path / "k8s"
    shutil.copytree(K8S, prod, ignore=shutil.ignore_patterns("*.env"))
    run = build(prod / "overlays" / "prod")
    assert run.returncode != 0 and ".env" in run.stderr


LOOPBACK = ("127.0.0.1", "localhost")
"""What the settings' defaults point at (the local servers): a Deployment must point everything elsewhere."""


def strings(value) -> list[str]:
    """Every string in a settings dump, however deeply nested."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    return [value] if isinstance(value, str) else []


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_service_starts_from_the_environment_it_is_given(overlay, request, monkeypatch):
    """Each service's settings, made as at its start from the environment Kubernetes gives the container and
    nothing else, pass every validator (production: a pseudonym key of its own, no shifted clock) and leave no
    address at a default pointing at this machine (feedback's VANTRUM_PUBLIC_URL, which starts the clients' links)."""
    docs = request.getfixturevalue(overlay)
    for variable in [v for v in os.environ if v.startswith("VANTRUM_")]:  # scripts/test.sh sets some
        monkeypatch.delenv(variable)
    for name, deployment in of_kind(docs, "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        with monkeypatch.context() as started:
            for variable, value in container_env(container, docs).items():
                started.setenv(variable, value)
            settings = settings_class(name)()
        assert settings.mode == {"dev": "dev", "prod": "production"}[overlay], name
        local = [value for value in strings(settings.model_dump()) if any(host in value for host in LOOPBACK)]
        assert not local, f"{name} would use {local}: a default meant for the local servers"


# Database roles: the Cluster's managed roles, their Secrets, the services' logins, the provisioning Job.

ROLES = [*service_roles(), READER]
"""Every role eventkit.provision creates, from the code itself."""


def values(doc: dict) -> dict[str, str]:
    """A rendered ConfigMap's or Secret's keys and values (a Secret's decoded)."""
    if doc["kind"] == "Secret":
        return {k: base64.b64decode(v).decode() for k, v in doc.get("data", {}).items()} | doc.get("stringData", {})
    return dict(doc.get("data", {}))


def container_env(container: dict, docs: list[dict]) -> dict[str, str]:
    """The environment the container starts with, as Kubernetes makes it: envFrom first, then env in order, each
    $(NAME) replaced by a variable defined before it."""
    sources = {(d["kind"], d["metadata"]["name"]): d for d in docs if d["kind"] in ("ConfigMap", "Secret")}
    # Strimzi's User Operator makes each KafkaUser's Secret (key ``password``) in the cluster, not kustomize.
    sources |= {("Secret", d["metadata"]["name"]): {"kind": "Secret", "stringData": {"password": "made-by-strimzi"}}
                for d in docs if d["kind"] == "KafkaUser"}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        kind = "ConfigMap" if "configMapRef" in source else "Secret"
        env |= values(sources[kind, (source.get("configMapRef") or source["secretRef"])["name"]])
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), var["value"])
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = values(sources["Secret", ref["name"]])[ref["key"]]
    return env


def logins(service: str, env: dict[str, str]) -> list[PostgresSettings]:
    """Each connection the service's settings make from ``env`` (every ``*login`` property: insight has two)."""
    cls = settings_class(service)
    fields = {"postgres": PostgresSettings(dsn=env["VANTRUM_POSTGRES__DSN"])}
    if "VANTRUM_DB_ROLE" in env:
        fields["db_role"] = env["VANTRUM_DB_ROLE"] or None
    settings = cls.model_construct(**fields)
    names = [n for n, member in inspect.getmembers(cls) if isinstance(member, property) and n.endswith("login")]
    return [getattr(settings, n) for n in names]


def managed_roles(docs: list[dict]) -> dict[str, dict]:
    (cluster,) = of_kind(docs, "Cluster").values()
    return {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_role_eventkit_provision_creates_is_a_managed_login_role_with_a_secret_of_its_own(overlay, request):
    docs = request.getfixturevalue(overlay)
    roles, secrets = managed_roles(docs), of_kind(docs, "Secret")
    assert sorted(roles) == sorted(ROLES)
    for name, role in roles.items():
        assert role["login"] is True and role.get("ensure", "present") == "present", name
        assert not any(role.get(power) for power in ("superuser", "createdb", "createrole", "replication", "bypassrls"))
        secret = secrets[role["passwordSecret"]["name"]]  # rendered under that very name (no hash suffix)
        assert secret["type"] == "kubernetes.io/basic-auth"
        assert values(secret)["username"] == name, "CloudNativePG expects the Secret's username to be the role"
        assert values(secret)["password"] and secret["metadata"]["labels"]["cnpg.io/reload"] == "true"
    assert len({r["passwordSecret"]["name"] for r in roles.values()}) == len(roles)


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_service_logs_in_as_a_managed_role_with_that_roles_password(overlay, request):
    docs = request.getfixturevalue(overlay)
    roles, secrets = managed_roles(docs), of_kind(docs, "Secret")
    used = {}
    for name, deployment in of_kind(docs, "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = container_env(container, docs)
        for login in logins(name, env):
            dsn = urlsplit(login.dsn)
            user = login.user or dsn.username
            assert user in roles, f"{name} logs in as {user}, which is not a managed role"
            assert (dsn.hostname, dsn.port) == ("vantrum-db-rw", 5432)
            assert unquote(dsn.password or "") == values(secrets[roles[user]["passwordSecret"]["name"]])["password"], (
                f"{name} logs in as {user} with a password other than that role's")
            used.setdefault(user, set()).add(name)
    assert sorted(used) == sorted(ROLES), "every role is some service's login"
    assert all(len(services) == 1 for services in used.values()), f"a role shared by services: {used}"


def test_the_database_owner_and_the_superuser_are_no_services_login(prod):
    (cluster,) = of_kind(prod, "Cluster").values()
    owner = cluster["spec"]["bootstrap"]["initdb"]["owner"]
    assert owner not in ROLES
    for deployment in of_kind(prod, "Deployment").values():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        refs = {v["valueFrom"]["secretKeyRef"]["name"] for v in container.get("env", []) if "valueFrom" in v}
        assert not refs & {cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"], "vantrum-db-superuser"}


def test_a_job_runs_eventkit_provision_as_the_clusters_superuser(prod):
    (cluster,) = of_kind(prod, "Cluster").values()
    assert cluster["spec"]["enableSuperuserAccess"] is True, "CloudNativePG makes the superuser's Secret only then"
    (job,) = of_kind(prod, "Job").values()
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    (intake,) = of_kind(prod, "Deployment")["intake"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == intake["image"], "the services' image, which has eventkit"
    assert container["command"][:4] == ["python", "-m", "eventkit.provision", "--dsn"]
    dsn = urlsplit(container["command"][4])
    assert (dsn.username, dsn.hostname, dsn.port, dsn.path) == ("$(PGUSER)", "vantrum-db-rw", 5432, "/vantrum")
    superuser = f"{cluster['metadata']['name']}-superuser"
    refs = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in container["env"]}
    assert refs == {"PGUSER": {"name": superuser, "key": "username"},
                    "PGPASSWORD": {"name": superuser, "key": "password"}}
    assert pod["restartPolicy"] == "OnFailure" and job["spec"]["backoffLimit"] >= 6
    assert pod["automountServiceAccountToken"] is False and pod["securityContext"]["runAsNonRoot"] is True


def selects(selector: dict, labels: dict) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels is read here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_every_database_client_may_reach_postgres_and_nothing_else_of_the_cluster(prod):
    policies = of_kind(prod, "NetworkPolicy")
    database = {"cnpg.io/cluster": "vantrum-db"}
    clients = [d["spec"]["template"]["metadata"]["labels"] for d in prod if d["kind"] in ("Deployment", "Job")]
    assert len(clients) == len(SERVICES) + 1
    ingress = [rule for rule in policies["postgres"]["spec"]["ingress"]
               if {"protocol": "TCP", "port": 5432} in rule["ports"]]
    for labels in clients:
        mine = [p["spec"] for p in policies.values() if selects(p["spec"]["podSelector"], labels)]
        out = [rule for spec in mine for rule in spec.get("egress", [])
               if any("podSelector" in peer and selects(peer["podSelector"], database) for peer in rule.get("to", []))]
        assert any(port["port"] == 5432 for rule in out for port in rule["ports"]), f"{labels}: no way out to postgres"
        assert any("podSelector" in peer and selects(peer["podSelector"], labels)
                   for rule in ingress for peer in rule["from"]), f"{labels}: postgres does not let it in"
    (job,) = of_kind(prod, "Job").values()
    job_labels = job["spec"]["template"]["metadata"]["labels"]
    job_policies = sorted(name for name, p in policies.items() if selects(p["spec"]["podSelector"], job_labels))
    assert job_policies == ["allow-dns", "db-provision", "default-deny"]
    assert "ingress" not in policies["db-provision"]["spec"], "nothing may call the Job"
