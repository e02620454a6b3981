"""docs/design.md and README.md are the map: every module and name they cite exists."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from support.workers import REPO_DIR

DOCS = ("docs/design.md", "README.md")
_DOTTED = re.compile(r"(?<![\w./-])((?:poetcore|worker|bots)(?:\.[A-Za-z_]\w*)+)")
_FILE_SUFFIXES = frozenset({"py", "md", "json", "toml", "yaml", "yml", "txt", "sqlite", "env"})
_FOLDER = re.compile(r"(?<![\w./-])((?:poetcore|worker|bots)/(?:[a-z_]+/)*[a-z_]+(?:\.py|/))")


def _module_file(dotted: str) -> Path | None:
    path = REPO_DIR / dotted.replace(".", "/")
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


@cache
def _defined(file: Path) -> frozenset[str]:
    """Top-level names a module defines or imports (classes, functions, constants, re-exports)."""
    names: set[str] = set()
    for node in ast.parse(file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def _unresolved(dotted: str) -> str | None:
    """Why ``dotted`` names nothing in the tree, or None: the longest module prefix must exist, and
    the next part (if any) must be defined in it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        file = _module_file(".".join(parts[:cut]))
        if file is None:
            continue
        if cut == len(parts):
            return None
        if parts[cut] in _defined(file) or _module_file(".".join(parts[: cut + 1])):
            return None
        return f"{'.'.join(parts[:cut])} defines no {parts[cut]}"
    return f"no module {parts[0]}"


def _cited(doc: str) -> list[str]:
    text = (REPO_DIR / doc).read_text(encoding="utf-8")
    found = {m.rstrip(".") for m in _DOTTED.findall(text)}
    return sorted(m for m in found if m.rsplit(".", 1)[1] not in _FILE_SUFFIXES)  # worker.py is a file name


@pytest.mark.parametrize("doc", DOCS)
def test_every_dotted_name_in_the_docs_exists(doc: str) -> None:
    missing = {name: why for name in _cited(doc) if (why := _unresolved(name))}
    assert missing == {}, f"{doc} cites names that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_in_the_docs_exists(doc: str) -> None:
    text = (REPO_DIR / doc).read_text(encoding="utf-8")
    missing = sorted({p for p in _FOLDER.findall(text) if not (REPO_DIR / p).exists()})
    assert missing == [], f"{doc} cites paths that do not exist: {missing}"


def test_the_engine_map_names_every_sub_package() -> None:
    text = (REPO_DIR / "docs" / "design.md").read_text(encoding="utf-8")
    block = text.split("### The engine: one sub-package per layer", 1)[1].split("```")[1]
    listed = set(re.findall(r"^  ([a-z_]+)/", block, re.M))
    packages = {p.parent.name for p in (REPO_DIR / "poetcore").glob("*/__init__.py")}
    assert packages == listed - {"assets"}, f"map lists {sorted(listed)}, the tree has {sorted(packages)}"
    modules = {f for line in re.findall(r"^  [a-z_]+/ +([a-z_ ]+?)(?: {2,}|$)", block, re.M) for f in line.split()}
    modules |= {f for line in re.findall(r"^ {14}([a-z_ ]+?)(?: {2,}|$)", block, re.M) for f in line.split()}
    for package in packages:
        actual = {p.stem for p in (REPO_DIR / "poetcore" / package).glob("*.py") if p.stem != "__init__"}
        assert actual <= modules, f"poetcore/{package}/ has modules the map omits: {sorted(actual - modules)}"
