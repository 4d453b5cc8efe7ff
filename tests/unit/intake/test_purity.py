"""The decider stays pure: no I/O, no clock, no new ids — those arrive in the command."""

import ast
from pathlib import Path

import intake

PURE = ["commands.py", "state.py", "domain.py"]
ALLOWED = {"__future__", "datetime", "enum", "pydantic", "contracts", "eventkit.decider", "eventkit.events"}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(node.module)
    return found


def test_the_domain_imports_nothing_that_does_io_and_reads_no_clock():
    package = Path(intake.__file__).parent
    for name in PURE:
        outside = {m for m in imports(package / name) if not any(m == a or m.startswith(a + ".") for a in ALLOWED)}
        assert not outside, f"{name} imports {outside}"
        source = (package / name).read_text()
        for impure in ("now(", "today(", "uuid", "random"):
            assert impure not in source, f"{name} uses {impure}"
