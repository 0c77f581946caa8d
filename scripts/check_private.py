"""Refuse the libraries' private names outside bridge/compat.py (issue 20).

A private name (one underscore, not a dunder) of python-telegram-bot, irc, aiosqlite, aiohttp
and the other libraries below can change in any minor release. The few the bridge still needs
live in bridge/compat.py, each with its reason, checked versions and test. This check walks
bridge/, handlers/ and storage/ (or the paths given) and names file:line for:

- ``import lib._x``, ``from lib._x import y``, ``from lib import _y``;
- ``X._name`` or ``getattr(X, "_name")`` where X is rooted at a library: a name its import
  bound, a parameter or variable annotated with a library type or assigned from the library,
  ``self.attr`` assigned one of those, or a call or attribute chain on any of them;
- in a class based on a library class: a method that overrides, or a ``self._name`` /
  ``super()._name`` that reaches, a private name that library class has.

The project's own private names (``self._x`` of its own classes) are not the libraries'.
Usage: ``python scripts/check_private.py [path ...]``; exit 1 when anything is found.
"""

from __future__ import annotations

import ast
import importlib
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

LIBRARIES = frozenset(
    {
        "telegram",
        "irc",
        "jaraco",
        "aiosqlite",
        "aiohttp",
        "httpx",
        "aiosmtplib",
        "jinja2",
        "prometheus_client",
        "multidict",
        "yarl",
    }
)
ALLOWED = "bridge/compat.py"
"""The one module where a library's private name may appear."""
PUBLIC_UNDERSCORED = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})
"""namedtuple's public API, which a library may hand out."""
ROOTS = ("bridge", "handlers", "storage")


def private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in PUBLIC_UNDERSCORED


def private_part(dotted: str) -> str | None:
    return next((part for part in dotted.split(".") if private(part)), None)


def self_or_super(node: ast.expr) -> bool:
    """``self`` or ``super()``: what a subclass reaches its bases' names through."""
    if isinstance(node, ast.Name):
        return node.id == "self"
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


@dataclass
class Scope:
    names: dict[str, str] = field(default_factory=dict)
    """Name → the library path it stands for ("" when only known to come from a library)."""


class Checker(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.findings: list[Finding] = []
        self.scopes: list[Scope] = [Scope()]
        self.self_attrs: list[set[str]] = []  # per enclosing class: self.<attr> from a library
        self.bases: list[list[object]] = []  # per enclosing class: its resolved library bases

    # ------------------------------------------------------------------ what is a library's

    def lookup(self, name: str) -> str | None:
        for scope in reversed(self.scopes):
            if name in scope.names:
                return scope.names[name]
        return None

    def library_path(self, node: ast.expr) -> str | None:
        """The dotted library path node stands for ("" when it is the library's but which
        object is unknown), or None when node is not rooted at a library."""
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and self.self_attrs
                and node.attr in self.self_attrs[-1]
            ):
                return ""
            inner = self.library_path(node.value)
            if inner is None:
                return None
            return f"{inner}.{node.attr}" if inner else ""
        if isinstance(node, ast.Call):
            return None if self.library_path(node.func) is None else ""
        if isinstance(node, (ast.Await, ast.Subscript, ast.Starred)):
            return None if self.library_path(node.value) is None else ""
        return None

    def from_library(self, node: ast.expr) -> bool:
        return self.library_path(node) is not None

    def annotation_is_library(self, node: ast.expr | None) -> bool:
        if node is None:
            return False
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return False
        return any(
            isinstance(n, (ast.Name, ast.Attribute)) and self.from_library(n)
            for n in ast.walk(node)
        )

    def flag(self, node: ast.AST, text: str) -> None:
        self.findings.append(Finding(self.path, getattr(node, "lineno", 0), text))

    # ------------------------------------------------------------------ imports

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            root = alias.name.split(".")[0]
            if root not in LIBRARIES:
                continue
            if (part := private_part(alias.name)) is not None:
                self.flag(node, f"imports {alias.name} (private {part})")
            if alias.asname:
                self.scopes[-1].names[alias.asname] = alias.name
            else:
                self.scopes[-1].names[root] = root

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module.split(".")[0] not in LIBRARIES:
            return
        if (part := private_part(module)) is not None:
            self.flag(node, f"imports from {module} (private {part})")
        for alias in node.names:
            if private(alias.name):
                self.flag(node, f"imports {alias.name} from {module}")
            self.scopes[-1].names[alias.asname or alias.name] = f"{module}.{alias.name}"

    # ------------------------------------------------------------------ names bound later

    def bind(self, target: ast.expr, is_library: bool) -> None:
        if not is_library:
            return
        if isinstance(target, ast.Name):
            self.scopes[-1].names[target.id] = ""
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and self.self_attrs
        ):
            self.self_attrs[-1].add(target.attr)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.generic_visit(node)
        for target in node.targets:
            self.bind(target, self.from_library(node.value))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.generic_visit(node)
        library = self.annotation_is_library(node.annotation) or (
            node.value is not None and self.from_library(node.value)
        )
        self.bind(node.target, library)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        if self.bases and private(node.name) and self.base_has(node.name):
            self.flag(node, f"overrides the library's private {node.name}")
        scope = Scope()
        arguments = node.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if arg.annotation is not None:
                self.visit(arg.annotation)
            if self.annotation_is_library(arg.annotation):
                scope.names[arg.arg] = ""
        if node.returns is not None:
            self.visit(node.returns)
        self.scopes.append(scope)
        for statement in node.body:
            self.visit(statement)
        self.scopes.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            self.visit(base)
        bases = [b for b in (self.resolve(base) for base in node.bases) if b is not None]
        self.bases.append(bases if bases else [])
        self.self_attrs.append(set())
        # Twice: the first pass learns which self.<attr> hold library objects (assigned in
        # any method, __init__ or not); the second reports with that knowledge.
        checker_findings = len(self.findings)
        for statement in node.body:
            self.visit(statement)
        del self.findings[checker_findings:]
        for statement in node.body:
            self.visit(statement)
        self.self_attrs.pop()
        self.bases.pop()

    # ------------------------------------------------------------------ library subclasses

    def resolve(self, base: ast.expr) -> object | None:
        """The library class a base expression names, imported; None if not a library's."""
        dotted = self.library_path(base)
        if not dotted:
            return None
        parts = dotted.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj: object = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            try:
                for attr in parts[cut:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                return None
            return obj
        return None

    def base_has(self, name: str) -> bool:
        return bool(self.bases) and any(hasattr(base, name) for base in self.bases[-1])

    # ------------------------------------------------------------------ the accesses

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        if not private(node.attr):
            return
        value = node.value
        if self_or_super(value):
            if self.base_has(node.attr):
                self.flag(node, f"reaches the library's private {node.attr} from a subclass")
        elif self.from_library(value):
            self.flag(node, f"reaches the library's private {node.attr}")

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr", "delattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and private(node.args[1].value)
            and self.from_library(node.args[0])
        ):
            self.flag(node, f"reaches the library's private {node.args[1].value}")


def check_source(source: str, path: str) -> list[Finding]:
    checker = Checker(path)
    checker.visit(ast.parse(source, filename=path))
    return sorted(checker.findings, key=lambda f: f.line)


def python_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.py") if ".venv" not in p.parts)
        elif path.suffix == ".py":
            yield path


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    root = Path(__file__).resolve().parent.parent
    paths = [Path(a) for a in args] or [root / r for r in ROOTS]
    findings: list[Finding] = []
    for file in python_files(paths):
        shown = file.resolve().relative_to(root) if file.resolve().is_relative_to(root) else file
        if shown.as_posix().endswith(ALLOWED):
            continue
        findings += check_source(file.read_text(encoding="utf-8"), str(shown))
    for finding in findings:
        print(finding)
    if findings:
        print(f"{len(findings)} private use(s) of a library outside {ALLOWED}", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
