"""Sharing knows the other services only through their published events (contracts), never through their code."""

import ast
from pathlib import Path

import sharing

OTHER_SERVICES = {"intake", "outreach", "casework", "insight", "feedback"}


def test_no_module_of_sharing_imports_another_service():
    sources = list(Path(sharing.__file__).parent.rglob("*.py"))
    assert len(sources) > 10
    offenders = {}
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            offenders.setdefault(path.name, []).extend(n for n in names if n.split(".")[0] in OTHER_SERVICES)
    assert {name: found for name, found in offenders.items() if found} == {}
