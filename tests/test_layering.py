"""The apps depend on each other in one direction (no import cycle between
apps), and no app imports the project's top layer.

A unit is the first level under molar/: an app (`molar.access`, from any
module inside molar/access/) or a top-level module (`molar.hashtime`,
`molar.transient`). Every import counts, at module level or inside a
function: a function-level import is still a dependency, only a later one.
Imports are read from the source with `ast`, so nothing is executed.
Imports under `if TYPE_CHECKING:` are only for annotations, never run, and
do not count.

The top layer (settings, URLs, WSGI, the CLI entry point, the API and the
demo loader) puts the apps together; an app that imported it would depend on
every app.
"""

import ast
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "molar"

TOP = {"molar.settings", "molar.urls", "molar.wsgi", "molar.cli", "molar.api", "molar.demo"}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    return ".".join(module.split(".")[:2])


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """Every molar module `path` imports, anywhere in the file."""
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for guard in [n for n in ast.walk(tree) if isinstance(n, ast.If) and _type_checking_only(n)]:
        guard.body = []  # annotations only: not a dependency at run time
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            # `from molar import checks` imports molar.checks
            found.update([base, *(f"{base}.{alias.name}" for alias in node.names)])
    return {name for name in found if name.startswith("molar.")}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def unit_edges() -> dict[tuple[str, str], set[str]]:
    """(importing unit, imported unit) -> the files that make that edge."""
    edges = defaultdict(set)
    for path in sorted(ROOT.rglob("*.py")):
        source = unit_of(module_name(path))
        for name in imported_modules(path):
            target = unit_of(name)
            if target != source:
                edges[source, target].add(str(path.relative_to(ROOT.parent)))
    return edges


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path that ends where it starts, or None for a DAG."""
    done, path = set(), []

    def visit(node):
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            cycle = visit(nxt)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def describe(cycle: list[str], edges) -> str:
    return "\n".join(f"{a} -> {b}: {', '.join(sorted(edges[a, b]))}" for a, b in pairwise(cycle))


def test_find_cycle_names_the_cycle_in_a_made_up_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    graph["c"] = {"d"}
    assert find_cycle(graph) is None
    assert find_cycle({"x": {"x"}}) == ["x", "x"]


def test_imports_are_read_at_every_level_and_relative_ones_resolved(tmp_path):
    app = tmp_path / "molar" / "shop"
    app.mkdir(parents=True)
    (app / "views.py").write_text(
        "from .models import Item\n"
        "def page():\n    from molar.billing import services\n    import molar.stock.selectors\n"
    )
    assert imported_modules(app / "views.py", root=tmp_path / "molar") == {
        "molar.shop.models",
        "molar.shop.models.Item",
        "molar.billing",
        "molar.billing.services",
        "molar.stock.selectors",
    }


def test_no_import_cycle_between_apps():
    edges = unit_edges()
    graph = defaultdict(set)
    for source, target in edges:
        graph[source].add(target)
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle between apps:\n" + describe(cycle, edges)


def test_no_app_imports_the_top_layer():
    wrong = {
        (source, target): files
        for (source, target), files in unit_edges().items()
        if target in TOP and source not in TOP
    }
    assert not wrong, "\n".join(f"{s} -> {t}: {', '.join(sorted(f))}" for (s, t), f in wrong.items())


def test_imports_only_for_annotations_do_not_count(tmp_path):
    app = tmp_path / "molar" / "shop"
    app.mkdir(parents=True)
    (app / "services.py").write_text(
        "from typing import TYPE_CHECKING\nimport molar.stock\n"
        "if TYPE_CHECKING:\n    from molar.billing.models import Invoice\n"
    )
    assert imported_modules(app / "services.py", root=tmp_path / "molar") == {"molar.stock"}
