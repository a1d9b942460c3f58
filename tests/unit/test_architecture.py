"""The layering rule of docs/architecture.md, checked on the source.

- no import cycle between Kinko's packages (a top-level module such as `kinko.config` counts
  as its own package);
- a module docs/architecture.md lists as pure imports nothing that does I/O on Kinko's
  behalf: not the store, the context, the API, the CLI, the web console, SQLAlchemy or
  an HTTP stack;
- no domain package imports an interface (api, web, cli) or the demo;
- no `importlib` between Kinko's packages: wiring is written down, in imports and in the
  composition, never looked up by name;
- database dialects are told apart only in `kinko.store`;
- no state kept on a SQLAlchemy session (`session.info`) outside the unit of work.

Every import counts, at module level or inside a function (a lazy import is still a
dependency); the test reads the source with `ast` and imports nothing.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).parents[2]
SRC = ROOT / "src" / "kinko"
DOC = ROOT / "docs" / "architecture.md"

INTERFACES = frozenset({"api", "web", "cli", "server", "serving"})
# The composition root (kinko.services) builds every service and wires them to each other;
# the setup code and the interfaces use it, no domain does (a domain that asked it for a
# collaborator would be looking it up instead of being handed it).
COMPOSITION = "services"
SETUP = frozenset({"bootstrap", "demo"})
IMPURE_PREFIXES = (
    "kinko.store",
    "kinko.context",
    "kinko.api",
    "kinko.cli",
    "kinko.web",
    "kinko.demo",
    "kinko.bootstrap",
    "sqlalchemy",
    "fastapi",
    "starlette",
    "uvicorn",
    "typer",
    "httpx",
    "requests",
    "redis",
    "web3",
)

# Dynamic imports that stay inside their own package, each for a reason: the CLI imports a
# command's module only when it runs (start-up time, docs/bench/startup.md); the chain
# registry builds an adapter from a configured name.
DYNAMIC_WITHIN_PACKAGE = frozenset({"cli/main.py", "chains/registry.py"})

# Still to go under issue #14 ("one composition root"): each entry is removed when its
# module stops looking collaborators up by name. The test fails when one is removed from
# the code but not from here, so the list only shrinks.
DYNAMIC_IMPORTS_TO_REMOVE: frozenset[str] = frozenset()
DIALECT_BRANCHES_TO_REMOVE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Module:
    name: str  # kinko.policy.engine
    path: str  # policy/engine.py
    tree: ast.Module

    @property
    def package(self) -> str:
        return package_of(self.name)

    def imports(self) -> Iterator[tuple[str, int]]:
        """Every absolute import, with its line."""
        for node in ast.walk(self.tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield node.module, node.lineno
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield alias.name, node.lineno

    def kinko_imports(self) -> Iterator[tuple[str, int]]:
        return ((m, line) for m, line in self.imports() if m == "kinko" or m.startswith("kinko."))


def package_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "kinko"


@cache
def modules() -> tuple[Module, ...]:
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append(Module(".".join(parts), str(path.relative_to(SRC)), ast.parse(path.read_text())))
    return tuple(out)


def package_graph() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> examples ("module:line imports target")."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for module in modules():
        for target, line in module.kinko_imports():
            other = package_of(target)
            if other not in (module.package, "kinko"):
                graph[module.package][other].append(f"{module.path}:{line} imports {target}")
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def pure_modules() -> list[str]:
    """The module paths listed between the markers of docs/architecture.md."""
    text = DOC.read_text()
    block = text.split("<!-- pure-modules -->")[1].split("<!-- /pure-modules -->")[0]
    found = re.findall(r"`([a-z_/]+(?:\.py|/))`", block)
    assert found, "docs/architecture.md lists no pure modules between its markers"
    return found


def test_the_package_graph_has_no_cycle() -> None:
    graph = package_graph()
    problems = []
    for component in cycles(graph):
        edges = [
            f"  {a} -> {b}: {graph[a][b][0]}"
            for a in component
            for b in component
            if b in graph.get(a, {})
        ]
        problems.append(f"cycle between {', '.join(component)}:\n" + "\n".join(edges))
    assert not problems, "\n".join(problems)


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b": ["x"]}, "b": {"c": ["y"]}, "c": {"a": ["z"]}, "d": {"a": ["w"]}}
    assert cycles(graph) == [["a", "b", "c"]]  # type: ignore[arg-type]


def test_pure_modules_do_no_io_on_kinkos_behalf() -> None:
    listed = pure_modules()
    by_path = {m.path: m for m in modules()}
    problems = []
    for entry in listed:
        chosen = [m for p, m in by_path.items() if p == entry or p.startswith(entry)]
        assert chosen, f"docs/architecture.md lists {entry}, which does not exist"
        for module in chosen:
            for target, line in module.imports():
                if target.startswith(IMPURE_PREFIXES):
                    problems.append(f"{module.path}:{line} imports {target}")
    assert not problems, "pure modules that import I/O:\n" + "\n".join(problems)


def test_domain_packages_do_not_import_interfaces() -> None:
    problems = [
        f"{m.path}:{line} imports {target}"
        for m in modules()
        if m.package not in INTERFACES | {"demo"}
        for target, line in m.kinko_imports()
        if package_of(target) in INTERFACES | {"demo"}
    ]
    assert not problems, "\n".join(problems)


def test_only_setup_and_interfaces_use_the_composition_root() -> None:
    allowed = INTERFACES | SETUP | {COMPOSITION}
    problems = [
        f"{m.path}:{line} imports {target}"
        for m in modules()
        if m.package not in allowed
        for target, line in m.kinko_imports()
        if package_of(target) == COMPOSITION
    ]
    assert not problems, "\n".join(problems)


def test_the_composition_root_imports_no_interface() -> None:
    problems = [
        f"{m.path}:{line} imports {target}"
        for m in modules()
        if m.package == COMPOSITION
        for target, line in m.kinko_imports()
        if package_of(target) in INTERFACES | SETUP
    ]
    assert not problems, "\n".join(problems)


def _dynamic_imports(module: Module) -> list[int]:
    lines = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in {"import_module", "__import__"}:
                lines.append(node.lineno)
    return lines


def test_no_importlib_between_packages() -> None:
    found = {m.path: _dynamic_imports(m) for m in modules()}
    found = {path: lines for path, lines in found.items() if lines}
    unexpected = {
        f"{path}:{lines[0]}"
        for path, lines in found.items()
        if path not in DYNAMIC_WITHIN_PACKAGE | DYNAMIC_IMPORTS_TO_REMOVE
    }
    assert not unexpected, f"importlib between Kinko's packages: {sorted(unexpected)}"
    gone = DYNAMIC_IMPORTS_TO_REMOVE - found.keys()
    assert not gone, f"no dynamic import left in {sorted(gone)}: remove it from the list"
    for path in DYNAMIC_WITHIN_PACKAGE:
        module = next(m for m in modules() if m.path == path)
        targets = {
            node.value
            for node in ast.walk(module.tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and re.fullmatch(r"kinko(\.[a-z_]+)+(:[a-z_]+)?", node.value)
        }
        outside = {t for t in targets if package_of(t.split(":")[0]) != module.package}
        assert not outside, f"{path} names modules of other packages: {sorted(outside)}"


def test_dialects_are_told_apart_only_in_the_store() -> None:
    found = {
        m.path
        for m in modules()
        if m.package != "store"
        for node in ast.walk(m.tree)
        if isinstance(node, ast.Attribute)
        and node.attr == "name"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "dialect"
    }
    assert found <= DIALECT_BRANCHES_TO_REMOVE, sorted(found - DIALECT_BRANCHES_TO_REMOVE)
    gone = DIALECT_BRANCHES_TO_REMOVE - found
    assert not gone, f"no dialect branch left in {sorted(gone)}: remove it from the list"


def test_only_the_unit_of_work_keeps_state_on_a_session() -> None:
    """`x.info[...]`, `x.info.get(...)`: anything but a call of `.info(...)` (logging)."""
    calls = {
        id(node.func) for m in modules() for node in ast.walk(m.tree) if isinstance(node, ast.Call)
    }
    found = sorted(
        f"{m.path}:{node.lineno}"
        for m in modules()
        if m.path != "store/work.py"
        for node in ast.walk(m.tree)
        if isinstance(node, ast.Attribute) and node.attr == "info" and id(node) not in calls
    )
    assert not found, f"state kept on a session outside kinko.store.work: {found}"


# A service handed its collaborators does not build one on its own context: `X(self.ctx)`.
# The composition root (kinko.services) builds each once and hands it in.
SIBLINGS_BUILT_TO_REMOVE: frozenset[str] = frozenset()


def test_no_service_builds_a_sibling_on_its_context() -> None:
    found = {
        m.path
        for m in modules()
        for node in ast.walk(m.tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id[:1].isupper()
        and node.args
        and isinstance(node.args[0], ast.Attribute)
        and node.args[0].attr in ("ctx", "_ctx")
        and isinstance(node.args[0].value, ast.Name)
        and node.args[0].value.id == "self"
    }
    assert found <= SIBLINGS_BUILT_TO_REMOVE, sorted(found - SIBLINGS_BUILT_TO_REMOVE)
    gone = SIBLINGS_BUILT_TO_REMOVE - found
    assert not gone, f"no sibling built in {sorted(gone)} any more: remove it from the list"
