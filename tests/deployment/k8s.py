"""Rendering the kustomize overlays and validating what they render: Kubernetes' own schemas for the built-in
kinds (kubernetes-validate bundles them), the operators' CRD schemas for Strimzi's and CloudNativePG's kinds."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SCHEMAS = K8S / "schemas"
KUBERNETES_VERSION = "1.37.0"
KUSTOMIZE = ROOT / ".tools" / "go" / "bin" / "kustomize"
"""Built by scripts/test.sh from the Go module (sigs.k8s.io/kustomize/kustomize/v5)."""


def kustomize() -> str:
    found = str(KUSTOMIZE) if KUSTOMIZE.exists() else shutil.which("kustomize")
    if found is None:
        raise AssertionError("kustomize is missing: run scripts/test.sh, which builds it into .tools/go/bin")
    return found


def build(overlay: Path) -> subprocess.CompletedProcess:
    return subprocess.run([kustomize(), "build", str(overlay)], capture_output=True, text=True, timeout=120)


def render(overlay: Path) -> list[dict]:
    run = build(overlay)
    assert run.returncode == 0, f"kustomize build {overlay} failed:\n{run.stderr}"
    return [doc for doc in yaml.safe_load_all(run.stdout) if doc]


def render_prod_with_examples(tmp: Path) -> list[dict]:
    """The prod overlay as an operator would render it after copying each *.env.example to *.env and filling it in:
    each file gets values of its own (``filled-in-<file>``, padded to the 32 bytes a production pseudonym key needs),
    so two Secrets agree only if made from the same file."""
    copy = tmp / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("*.env"))  # real secrets, if someone has them, stay put
    for example in (copy / "overlays" / "prod").glob("*.env.example"):
        filled = example.with_suffix("")
        filled.write_text(example.read_text().replace("REPLACE_ME", f"filled-in-{filled.stem}".ljust(40, "x")))
    return render(copy / "overlays" / "prod")


@cache
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) → the JSON Schema made from the operator's CRD (schemas/from_crd.py)."""
    schemas = {}
    for path in SCHEMAS.glob("*.json"):
        schema = json.loads(path.read_text())
        schemas[schema["properties"]["apiVersion"]["const"], schema["properties"]["kind"]["const"]] = schema
    return schemas


def problems(doc: dict) -> list[str]:
    """Why the API server (with kubectl's strict field validation) would refuse ``doc``; empty if it would not."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in crd_schemas():
        validator = jsonschema.Draft7Validator(crd_schemas()[key])
        found = [f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(doc)]
        # metadata is checked like any other object's, against Kubernetes' ObjectMeta
        return found + problems({"apiVersion": "v1", "kind": "ConfigMap", "metadata": doc.get("metadata", {})})
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'.'.join(map(str, error.path)) or '(top)'}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no schema for {key}: neither a Kubernetes kind nor one of the operators' in deploy/k8s/schemas"]
    return []
