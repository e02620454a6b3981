"""Fixtures for the corpus pipeline tests (see synthetic_package.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from synthetic_package import sample_package, write_package, write_tarball


@pytest.fixture
def package_tarball(tmp_path: Path) -> Path:
    return write_tarball(tmp_path / "chinese-poetry-2.0.1.tgz", sample_package())


@pytest.fixture
def package_dir(tmp_path: Path) -> Path:
    return write_package(tmp_path / "src", sample_package())


@pytest.fixture
def make_tarball(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def make(pkg: dict[str, Any]) -> Path:
        return write_tarball(tmp_path / "custom.tgz", pkg)

    return make
