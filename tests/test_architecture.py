"""The package structure holds: no import cycles (imports inside functions included), layers import downwards only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "catalog", "training", "pages", "scripts")
SUBSYSTEMS = ("detection", "embedding", "index", "search", "video", "curation")


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the project's packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")) if (ROOT / package).is_dir() else []:
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imported_names(name: str, path: Path) -> set[str]:
    """Every module name `path` imports, anywhere in the file (functions included), as written."""
    names = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return names


def project_imports(known: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name resolves to its longest known prefix)."""
    graph = {}
    for name, path in known.items():
        targets = set()
        for imported in imported_names(name, path):
            while imported and imported not in known:
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]

    def visit(root: str) -> None:
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
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
                if len(component) > 1:
                    found.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return project_imports(modules())


def test_the_scan_sees_imports_inside_functions():
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
    source = ROOT / "catalog" / "grow.py"  # imports catalog.build_ray inside a function (Ray is optional)
    assert "catalog.build_ray" in imported_names("catalog.grow", source)


def test_there_are_no_import_cycles(graph):
    assert cycles(graph) == []


def test_the_engine_imports_no_layer_above_it(graph):
    upward = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("engine")
        for target in targets
        if not target.startswith("engine")
    }
    assert upward == set()
    for name, path in modules().items():
        if name.startswith("engine"):
            assert not any(n.split(".")[0] == "streamlit" for n in imported_names(name, path)), name


def test_pages_use_each_engine_subsystem_through_its_interface(graph):
    deep = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith("pages")
        for target in targets
        if target.count(".") >= 2 and target.split(".")[1] in SUBSYSTEMS
    }
    assert deep == set()


def test_nothing_imports_a_page_file():
    """A page file runs its page when imported (outside Streamlit too): only Streamlit may load it, by path."""
    pages = {name for name, path in modules().items() if "\nif routed_through_app():" in path.read_text()}
    assert {"pages.shop", "pages.video", "pages.review"} <= pages
    tests = {".".join(p.relative_to(ROOT).with_suffix("").parts): p for p in sorted((ROOT / "tests").rglob("*.py"))}
    importers = {**modules(), **tests}
    found = {(name, target) for name, path in importers.items() for target in imported_names(name, path) & pages}
    assert found == set()
