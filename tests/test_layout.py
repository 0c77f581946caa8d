"""The tests' own structure: helpers live in tests/support/, and no test module imports another.

A test module that imports another runs the other's fixtures and module-level code too, and
moving or renaming either breaks both; what two modules share belongs in tests/support/.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_test_modules(source: str) -> set[str]:
    """The test modules (tests/test_*.py) that source imports, in any form, at any depth."""
    tree = ast.parse(source)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom):  # relative: from . import test_x / from .test_x
            base = node.module or ""
            names = [base] + [f"{base}.{a.name}".lstrip(".") for a in node.names]
            names = [f"tests.{n}" for n in names if n]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == "tests" and parts[1].startswith("test_"):
                found.add(parts[1])
    return found


def test_no_test_module_imports_another() -> None:
    offenders = {
        path.name: sorted(imported)
        for path in sorted(TESTS.glob("test_*.py"))
        if (imported := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "move what they share into tests/support/"


def test_the_check_sees_each_form_of_import() -> None:
    forms = [
        "from tests.test_config import MINIMAL",
        "import tests.test_config",
        "from tests import test_config",
        "from .test_config import MINIMAL",
        "from . import test_config",
    ]
    for form in forms:
        assert imported_test_modules(form) == {"test_config"}, form
    assert imported_test_modules("def f() -> None:\n    import tests.test_cli\n") == {"test_cli"}
    assert imported_test_modules("from tests.support.configs import MINIMAL") == set()
