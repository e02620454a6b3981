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
    assert _heavy_after_import(["poetcore.request", "poetcore.settings", "poetcore.checker"]) == []
