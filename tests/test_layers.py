"""No import cycles among the bridge's own modules, so each one can be read and tested alone.

The import-linter contracts (pyproject.toml, run by scripts/test.sh) check the layers they
name; this test catches a cycle anywhere, also between modules no contract mentions. Imports
under TYPE_CHECKING and inside functions count: hiding a cycle does not remove it.
"""

from __future__ import annotations

import grimp

PACKAGES = ("bridge", "handlers", "storage")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Each group of modules that reach one another through imports (Tarjan's strongly
    connected components of more than one module, or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or graph.direct_import_exists(importer=module, imported=module):
                cycles.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return sorted(cycles)


def describe(graph: grimp.ImportGraph, cycle: list[str]) -> str:
    """The imports that close the cycle, with their lines, for whoever has to break it."""
    lines = [f"cycle among {', '.join(cycle)}:"]
    for importer in cycle:
        for imported in cycle:
            for detail in graph.get_import_details(importer=importer, imported=imported):
                lines.append(f"  {importer}:{detail['line_number']} {detail['line_contents']}")
    return "\n".join(lines)


def test_no_import_cycles() -> None:
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "\n".join(describe(graph, c) for c in cycles)


def test_cycles_are_found_however_long() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [
        ("p.a", "p.b"),
        ("p.b", "p.c"),
        ("p.c", "p.a"),  # a → b → c → a
        ("p.c", "p.d"),
        ("p.e", "p.e"),  # a module importing itself
        ("p.f", "p.g"),
    ]:
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph) == [["p.a", "p.b", "p.c"], ["p.e"]]
