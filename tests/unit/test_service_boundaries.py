"""Each service knows the others only through their published events (contracts), never through their code."""

import ast
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
NAMES = sorted(p.name for p in SERVICES.iterdir() if (p / p.name / "__init__.py").exists())


@pytest.mark.parametrize("service", NAMES)
def test_no_module_of_a_service_imports_another_service(service):
    others = set(NAMES) - {service}
    sources = list((SERVICES / service / service).rglob("*.py"))
    assert len(sources) > 5
    offenders = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            offenders.setdefault(path.name, []).extend(n for n in names if n.split(".")[0] in others)
    assert {name: found for name, found in offenders.items() if found} == {}
