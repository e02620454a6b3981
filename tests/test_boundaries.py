"""The import boundaries of docs/design.md, checked mechanically.

    bots ──> worker.contract ──> poetcore (torch-free parts)
    worker (runtime) ──> worker.contract, poetcore
    poetcore ──> nothing of ours above it

Bots never import torch or transformers, and import only the contract of the queue side.
"""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.workers import REPO_DIR

HEAVY = ("torch", "transformers")


def _modules(package: str) -> list[str]:
    root = REPO_DIR / package.replace(".", "/")
    names = [package]
    for info in pkgutil.walk_packages([str(root)], prefix=f"{package}."):
        names.append(info.name)
    return sorted(n for n in names if not n.endswith("__main__"))


def _imports(path: Path) -> list[str]:
    """Every module a file imports, at any depth (function-level imports included)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _files(package: str) -> list[Path]:
    return sorted((REPO_DIR / package.replace(".", "/")).rglob("*.py"))


def _heavy_after_import(modules: list[str]) -> list[str]:
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_DIR, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [m for m in result.stdout.strip().split(",") if m]


def test_every_bots_module_imports_without_torch() -> None:
    modules = _modules("bots")
    assert "bots.discord.client" in modules and "bots.telegram.app" in modules and "bots.cli" in modules
    assert _heavy_after_import(modules) == []


def test_the_contract_imports_without_torch() -> None:
    assert _heavy_after_import(_modules("worker.contract")) == []


@pytest.mark.parametrize("path", _files("bots"), ids=lambda p: str(p.relative_to(REPO_DIR)))
def test_bots_import_only_the_contract_of_the_queue(path: Path) -> None:
    outside = [m for m in _imports(path) if m.split(".")[0] == "worker" and not m.startswith("worker.contract")]
    assert outside == [], f"{path.relative_to(REPO_DIR)} imports the worker runtime: {outside}"


@pytest.mark.parametrize("path", _files("worker/contract"), ids=lambda p: str(p.relative_to(REPO_DIR)))
def test_the_contract_imports_nothing_of_the_worker_runtime_or_the_bots(path: Path) -> None:
    bad = [m for m in _imports(path) if (m.split(".")[0] == "worker" and not m.startswith("worker.contract"))
           or m.split(".")[0] in ("bots", *HEAVY)]
    assert bad == [], f"{path.relative_to(REPO_DIR)} imports {bad}"


@pytest.mark.parametrize("path", _files("poetcore"), ids=lambda p: str(p.relative_to(REPO_DIR)))
def test_the_engine_imports_no_layer_above_it(path: Path) -> None:
    bad = [m for m in _imports(path) if m.split(".")[0] in ("worker", "bots")]
    assert bad == [], f"{path.relative_to(REPO_DIR)} imports {bad}"


def test_the_request_model_is_torch_free() -> None:
    assert _heavy_after_import(["poetcore.request", "poetcore.settings", "poetcore.prosody.checker"]) == []


ENGINE_BASE = frozenset({"errors", "paths", "settings"})
"""Engine modules below every layer: any part may import them."""
TORCH_FREE_ENGINE = ("poetcore.text", "poetcore.prosody", "poetcore.lines", "poetcore.lexicon", "poetcore.data",
                     "poetcore.request", "poetcore.settings", "poetcore.decoding.spec")


def _engine_part(module: str) -> str | None:
    """``poetcore.prosody.checker`` -> ``prosody``; ``poetcore.compose`` -> ``compose``."""
    parts = module.split(".")
    return parts[1] if parts[0] == "poetcore" and len(parts) > 1 else None


def _engine_graph() -> dict[str, set[str]]:
    """Part -> the parts its files import, at any depth."""
    graph: dict[str, set[str]] = {}
    for path in _files("poetcore"):
        rel = path.relative_to(REPO_DIR / "poetcore").parts
        if len(rel) == 1 and rel[0] == "__init__.py":
            continue
        part = rel[0].removesuffix(".py")
        for module in _imports(path):
            other = _engine_part(module)
            if other and other != part:
                graph.setdefault(part, set()).add(other)
        graph.setdefault(part, set())
    return graph


def _documented_graph() -> dict[str, set[str]]:
    """The table in docs/design.md under "imports of each part of poetcore"."""
    text = (REPO_DIR / "docs" / "design.md").read_text(encoding="utf-8")
    block = text.split("imports of each part of poetcore", 1)[1].split("```", 1)[0]
    rows = [line.split() for line in block.splitlines()[1:] if line.strip()]
    return {row[0]: {d for d in row[1:] if d != "-"} for row in rows}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path, or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_engine_parts_import_without_a_cycle() -> None:
    graph = _engine_graph()
    assert {"text", "prosody", "lines", "lexicon", "data", "model", "decoding", "eval", "cli"} <= set(graph)
    assert _cycle(graph) is None, f"import cycle between engine parts: {' -> '.join(_cycle(graph) or [])}"


def test_engine_imports_follow_the_documented_graph() -> None:
    documented = _documented_graph()
    actual = _engine_graph()
    layers = {part for part in actual if part not in ENGINE_BASE}
    assert layers == set(documented), f"docs/design.md lists {sorted(documented)}, the code has {sorted(layers)}"
    undocumented = {part: sorted(deps - documented[part] - ENGINE_BASE) for part, deps in actual.items()
                    if part in documented and deps - documented[part] - ENGINE_BASE}
    assert undocumented == {}, f"imports missing from the graph in docs/design.md: {undocumented}"
    assert _cycle(documented) is None
    base_imports = {part: sorted(actual[part] - ENGINE_BASE) for part in ENGINE_BASE if actual.get(part, set()) - ENGINE_BASE}
    assert base_imports == {}, f"errors/paths/settings must import no layer: {base_imports}"


def test_torch_free_engine_parts_stay_torch_free() -> None:
    modules = [m for package in TORCH_FREE_ENGINE for m in _modules(package)]
    assert "poetcore.prosody.checker" in modules and "poetcore.data.prepare" in modules
    assert _heavy_after_import(modules) == []


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    above = lines[sub.lineno - 2].strip()  # the reason may stand on the line above
                    line = lines[sub.lineno - 1].strip()
                    found.append((sub.lineno, line + ("  " + above if above.startswith("#") else "")))
    return sorted(set(found))


@pytest.mark.parametrize("package", ["poetcore", "worker", "bots"])
def test_function_level_imports_say_why(package: str) -> None:
    """An import inside a function hides an edge of the graph; each one must keep a heavy or optional
    dependency off a path that does not need it, and say so on its line."""
    silent = [f"{path.relative_to(REPO_DIR)}:{n}: {line}" for path in _files(package)
              for n, line in _function_level_imports(path) if "#" not in line]
    assert silent == [], "function-level imports without their reason:\n" + "\n".join(silent)
