"""Each package and module states its public surface in ``__all__``, and the statement is true."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from support.workers import REPO_DIR

PACKAGES = ("poetcore", "worker", "bots")
LIGHT = ("torch", "transformers")  # modules that need them are checked too: importing is enough


def _all_modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        names.append(package)
        for info in pkgutil.walk_packages([str(REPO_DIR / package)], prefix=f"{package}."):
            if not info.name.endswith("__main__"):
                names.append(info.name)
    return sorted(names)


MODULES = _all_modules()
PACKAGE_NAMES = [m for m in MODULES if (REPO_DIR / m.replace(".", "/") / "__init__.py").exists()]


@pytest.mark.parametrize("name", PACKAGE_NAMES)
def test_every_package_declares_all(name: str) -> None:
    assert hasattr(importlib.import_module(name), "__all__"), f"{name}/__init__.py has no __all__"


@pytest.mark.parametrize("name", [m for m in MODULES if m.startswith(("worker.contract", "bots.core"))])
def test_contract_and_chat_core_modules_declare_all(name: str) -> None:
    assert hasattr(importlib.import_module(name), "__all__"), f"{name} has no __all__"


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_exactly_the_public_names(name: str) -> None:
    module = importlib.import_module(name)
    declared = getattr(module, "__all__", None)
    if declared is None:
        return
    missing = [n for n in declared if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names {missing}, which do not exist"
    public = {
        n for n, obj in vars(module).items()
        if not n.startswith("_") and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == name
    }
    assert public <= set(declared), f"{name} defines public {sorted(public - set(declared))} missing from __all__"
