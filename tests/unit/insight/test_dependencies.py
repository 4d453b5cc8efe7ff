"""The read side depends on the published contracts and the event kit only, never on another service's code."""

import ast
from pathlib import Path

import insight

OTHER_SERVICES = {"intake", "outreach", "casework", "feedback", "partners"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_of_insight_imports_another_service():
    sources = list(Path(insight.__file__).parent.rglob("*.py"))
    assert len(sources) > 10
    offenders = {str(path.name): sorted(m for m in imported_modules(path) if m.split(".")[0] in OTHER_SERVICES)
                 for path in sources}
    assert {name: mods for name, mods in offenders.items() if mods} == {}
