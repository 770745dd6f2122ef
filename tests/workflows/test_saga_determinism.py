"""The arbitrage saga runs outside the workflow sandbox (see workflows/arb_saga.py): its modules
must not reach for the clock, randomness, ids or I/O themselves, only through `workflow.*`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAGA_MODULES = ("workflows/arb_saga.py", "workflows/placement.py", "arbitrage/saga.py", "arbitrage/compensation.py")
FORBIDDEN_MODULES = {"random", "uuid", "time", "os", "socket", "threading", "secrets", "httpx", "sqlalchemy"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "open", "sleep"}


def _violations(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [f"imports {name}" for name in names if name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
            if name in FORBIDDEN_CALLS and owner not in {"workflow", "asyncio"}:
                found.append(f"calls {owner + '.' if owner else ''}{name}() at line {node.lineno}")
    return found


@pytest.mark.parametrize("module", SAGA_MODULES)
def test_saga_modules_take_time_and_randomness_only_from_workflow(module: str) -> None:
    assert _violations((ROOT / module).read_text()) == []


def test_the_check_catches_what_the_sandbox_would_have() -> None:
    bad = "import uuid\nfrom datetime import datetime\nx = datetime.now()\nopen('f')\n"
    assert _violations(bad) == ["imports uuid", "calls datetime.now() at line 3", "calls open() at line 4"]
