"""Turn an operator's CustomResourceDefinition into the JSON Schema the manifest tests validate against.

    python deploy/k8s/schemas/from_crd.py CRD.yaml > deploy/k8s/schemas/<kind>-<group>-<version>.json

Only the served storage version's ``openAPIV3Schema`` is kept, with descriptions dropped (they are most of
the size). Two things the API server does are made explicit for a plain JSON Schema validator:

- ``x-kubernetes-int-or-string`` becomes "an integer or a string";
- an object with ``properties`` and no ``x-kubernetes-preserve-unknown-fields`` refuses other fields
  (``additionalProperties: false``), as ``kubectl apply`` does with its default strict field validation.

SOURCES names the files the committed schemas were made from (see README.md beside this file).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

SOURCES = {
    "kafka-kafka.strimzi.io-v1.json": "strimzi/strimzi-kafka-operator@1.2.0 install/cluster-operator/040-Crd-kafka.yaml",
    "kafkatopic-kafka.strimzi.io-v1.json": "strimzi/strimzi-kafka-operator@1.2.0 install/cluster-operator/043-Crd-kafkatopic.yaml",
    "kafkanodepool-kafka.strimzi.io-v1.json": "strimzi/strimzi-kafka-operator@1.2.0 install/cluster-operator/045-Crd-kafkanodepool.yaml",
    "cluster-postgresql.cnpg.io-v1.json": "cloudnative-pg/cloudnative-pg@v1.30.0 config/crd/bases/postgresql.cnpg.io_clusters.yaml",
}


def strict(node: object) -> object:
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: strict(value) for key, value in node.items() if key != "description"}
    if "properties" in node:  # field names, kept even when a field is called "description"
        out["properties"] = {name: strict(value) for name, value in node["properties"].items()}
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"]
    if "properties" in out and "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def schema_of(crd: dict) -> tuple[str, dict]:
    version = next(v for v in crd["spec"]["versions"] if v.get("storage"))
    names, group = crd["spec"]["names"], crd["spec"]["group"]
    schema = strict(version["schema"]["openAPIV3Schema"])
    # apiVersion and kind must be exactly this resource's (the CRD leaves them free).
    schema["properties"]["apiVersion"] = {"const": f"{group}/{version['name']}"}
    schema["properties"]["kind"] = {"const": names["kind"]}
    schema["properties"]["metadata"] = {"type": "object"}  # checked by the Kubernetes ObjectMeta schema instead
    schema["required"] = sorted({"apiVersion", "kind", "metadata", *schema.get("required", [])})
    return f"{names['kind'].lower()}-{group}-{version['name']}.json", schema


if __name__ == "__main__":
    name, schema = schema_of(yaml.safe_load(Path(sys.argv[1]).read_text()))
    print(f"writing {name}", file=sys.stderr)
    json.dump(schema, sys.stdout, separators=(",", ":"), sort_keys=True)
