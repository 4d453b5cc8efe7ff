"""Every service's domain stays pure: no I/O, no clock, no new ids — those arrive in the command.

Checked from the source, so a forbidden import fails here before it can hide behind a test double.
"""

import ast
import importlib
from pathlib import Path

import pytest

ALLOWED = {"__future__", "calendar", "collections", "dataclasses", "datetime", "enum", "functools", "typing", "uuid", "pydantic",
           "contracts", "eventkit.decider", "eventkit.events"}
IMPURE_CALLS = ("now(", "today(", "utcnow", "uuid4", "uuid1", "random")
PURE_MODULES = {
    "intake": ["commands.py", "state.py", "domain.py"],
    "outreach": ["commands.py", "state.py", "domain.py"],
    "casework": ["commands.py", "state.py", "domain.py", "closing.py", "ids.py"],
    "feedback": ["commands.py", "state.py", "domain.py"],
    "sharing": ["commands.py", "state.py", "domain.py"],
}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(("service", "module"), [(s, m) for s, modules in PURE_MODULES.items() for m in modules])
def test_the_domain_imports_nothing_that_does_io_and_reads_no_clock(service, module):
    path = Path(importlib.import_module(service).__file__).parent / module
    outside = {m for m in imports(path) if not any(m == a or m.startswith(a + ".") for a in ALLOWED)}
    assert not outside, f"{service}/{module} imports {outside}"
    source = path.read_text()
    for impure in IMPURE_CALLS:
        assert impure not in source, f"{service}/{module} uses {impure}"
