"""No import cycle between modules of marketplace/.

Reads every module with `ast` (nothing is imported) and builds the graph of
module-level imports. Imports inside functions are left out on purpose: they are
the accepted way to defer a dependency. A strongly connected component of more
than one module is a cycle; the test prints it with the import lines that make it.
The same graph read per package (marketplace.challenges, marketplace.payments, ...) must have no cycle
either, and the domain packages keep the order in LAYERS: a package imports only those before it at module
level. What a page of a lower package shows from a higher one comes through `marketplace.panels`, registered
by the higher package when the app is made.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = "marketplace"

# The domain packages, lowest first: each may import (at module level) only the ones before it.
LAYERS = ("challenges", "stages", "proposals", "reviews", "awards", "payments", "results", "reminders")
ROOT = Path(__file__).resolve().parents[2] / PACKAGE


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def module_level_imports(node: ast.AST):
    """Import statements outside functions (class bodies and `if` blocks run at import time too)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child
        elif not _is_type_checking_block(child):
            yield from module_level_imports(child)


def _is_type_checking_block(node: ast.AST) -> bool:
    # `if TYPE_CHECKING:` imports never run, so they make no cycle.
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(name: str, importer: str, is_package: bool, level: int) -> str:
    if not level:
        return name
    base = importer.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imported_modules(statement, importer: str, is_package: bool, known: dict[str, Path]) -> set[str]:
    """The marketplace modules one import statement loads (`from a import b` may mean module a.b)."""
    if isinstance(statement, ast.Import):
        targets = {alias.name for alias in statement.names}
    else:
        base = _absolute(statement.module or "", importer, is_package, statement.level)
        targets = {base}
        targets |= {f"{base}.{alias.name}" for alias in statement.names if f"{base}.{alias.name}" in known}
    found = set()
    for target in targets:
        # `import a.b.c` runs a, a.b and a.b.c; the deepest known one is the edge that matters.
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != importer:
            found.add(target)
    return found


def import_graph() -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    known = all_modules()
    edges: dict[str, set[str]] = defaultdict(set)
    lines: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for statement in module_level_imports(tree):
            for target in imported_modules(statement, name, is_package, known):
                edges[name].add(target)
                where = f"{path.relative_to(ROOT.parent)}:{statement.lineno}"
                lines[(name, target)].append(f"{where}: {ast.unparse(statement)}")
        edges.setdefault(name, set())
    return edges, lines


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a recursive one would hit the recursion limit on a big graph)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def describe_cycle(component: list[str], edges, lines) -> str:
    members = set(component)
    text = [f"cycle of {len(component)} modules: {', '.join(component)}"]
    for source in component:
        for target in sorted(edges[source] & members):
            text.extend(f"    {line}" for line in lines[(source, target)])
    return "\n".join(text)


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def package_graph(edges) -> dict[str, set[str]]:
    packages: dict[str, set[str]] = defaultdict(set)
    for source, targets in edges.items():
        packages[package_of(source)]
        for target in targets:
            if package_of(source) != package_of(target):
                packages[package_of(source)].add(package_of(target))
    return packages


def package_lines(component: list[str], lines) -> list[str]:
    """One import line per package edge inside a package cycle, to start from."""
    members, seen, text = set(component), set(), []
    for source, target in sorted(lines):
        pair = (package_of(source), package_of(target))
        if pair[0] != pair[1] and {*pair} <= members and pair not in seen:
            seen.add(pair)
            text.append(f"    {pair[0]} -> {pair[1]}: {lines[(source, target)][0]}")
    return text


def layer_violations(lines) -> list[str]:
    rank = {f"{PACKAGE}.{name}": position for position, name in enumerate(LAYERS)}
    return sorted(f"{found[0]}  ({package_of(source)} is below {package_of(target)})"
                  for (source, target), found in lines.items()
                  if rank.get(package_of(source), -1) < rank.get(package_of(target), -1)
                  and package_of(source) in rank)


def test_the_checker_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert [c for c in strongly_connected(edges) if len(c) > 1] == [["a", "b", "c"]]


def test_relative_imports_resolve_to_marketplace_modules():
    known = {"marketplace.payments": Path(), "marketplace.payments.providers": Path(), "marketplace.money": Path()}
    statement = ast.parse("from .providers import stripe").body[0]
    assert imported_modules(statement, "marketplace.payments", True, known) == {"marketplace.payments.providers"}
    statement = ast.parse("from ..money import to_minor").body[0]
    assert imported_modules(statement, "marketplace.payments.providers", False, known) == {"marketplace.money"}


def test_no_import_cycle_between_modules():
    edges, lines = import_graph()
    cycles = [component for component in strongly_connected(edges) if len(component) > 1]
    report = "\n\n".join(describe_cycle(component, edges, lines) for component in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s) between marketplace modules:\n{report}"


def test_no_import_cycle_between_packages():
    edges, lines = import_graph()
    cycles = [component for component in strongly_connected(package_graph(edges)) if len(component) > 1]
    report = "\n".join(f"package cycle: {' <-> '.join(c)}\n" + "\n".join(package_lines(c, lines)) for c in cycles)
    assert not cycles, report


def test_the_domain_packages_keep_their_layers():
    edges, lines = import_graph()
    assert {f"{PACKAGE}.{name}" for name in LAYERS} <= set(package_graph(edges))
    assert layer_violations(lines) == []


def test_the_package_check_finds_a_cycle():
    edges = {"marketplace.a.x": {"marketplace.b.y"}, "marketplace.b.y": set(), "marketplace.b.z": {"marketplace.a.w"},
             "marketplace.a.w": set()}
    assert [c for c in strongly_connected(package_graph(edges)) if len(c) > 1] == [["marketplace.a", "marketplace.b"]]
