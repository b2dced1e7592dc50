"""The layout of docs/ARCHITECTURE.md holds: which package may import which, no file
imports another that imports it back (not even under TYPE_CHECKING or inside a function),
and no module grows past the size where it is split.

The imports are read from the source (every `import` statement, wherever it sits), not
from what a run happens to load.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("oee", "core", "connectors", "edge", "api", "simulators")
# Of ours, what each package may import (docs/ARCHITECTURE.md, "The folders").
MAY_IMPORT = {
    "oee": set(),
    "core": {"oee"},
    "connectors": {"core", "oee"},
    "edge": {"core", "connectors", "oee"},
    "api": {"core", "edge", "connectors", "oee"},
    "simulators": set(),
}
# The composition root: the command line starts the API and the simulators.
MAY_ALSO = {"edge.cli": {"api", "simulators"}}
MAX_LINES = 500


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ours that `name` imports (a package's `__init__` when a name is
    imported from the package itself)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            targets.update(f"{base}.{a.name}" for a in node.names)
            targets.add(base)
    out = set()
    for t in targets:
        while t and t not in known:
            t = t.rpartition(".")[0]
        if t and t != name:
            out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imported(name, path, set(mods)) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def allowed(importer: str, imported_package: str) -> bool:
    package = importer.split(".")[0]
    if imported_package == package or imported_package in MAY_IMPORT[package]:
        return True
    return any(
        (importer == prefix or importer.startswith(prefix + ".")) and imported_package in extra
        for prefix, extra in MAY_ALSO.items()
    )


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert cycles(graph()) == []


def test_each_package_imports_only_what_it_may() -> None:
    wrong = sorted(
        f"{a} imports {b}"
        for a, targets in graph().items()
        for b in targets
        if not allowed(a, b.split(".")[0])
    )
    assert wrong == []


def test_the_packages_import_one_another_in_one_direction() -> None:
    by_package: dict[str, set[str]] = defaultdict(set)
    for a, targets in graph().items():
        for b in targets:
            if a.split(".")[0] != b.split(".")[0]:
                by_package[a.split(".")[0]].add(b.split(".")[0])
    # edge -> api through the command line only (the test above); api -> edge back.
    by_package["edge"] -= {"api", "simulators"}
    assert cycles(by_package) == []
    assert by_package["connectors"] == {"core"}  # never edge/: its interfaces are in core


def test_no_module_is_past_the_size_where_it_is_split() -> None:
    long = {
        str(path.relative_to(REPO)): n
        for path in modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_the_checks_see_a_cycle_and_a_forbidden_import() -> None:
    """The checks above on a made-up graph: they would catch what they are for."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert not allowed("connectors.mqtt.sink", "edge")
    assert not allowed("edge.pipeline.gateway", "api")
    assert allowed("edge.cli.serve", "api")
    assert allowed("api.app", "edge")
    # An import inside a function or under TYPE_CHECKING counts like any other.
    mods = modules()
    found = imported("edge.cli.main", mods["edge.cli.main"], set(mods))
    assert {"edge.cli.serve", "edge.cli.demo", "simulators.cli"} <= found
