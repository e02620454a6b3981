"""Where the package's shipped files live: the one module that knows the layout of ``assets/``.

``assets/`` mirrors the code: ``prosody/`` (strain tones, 词谱), ``lexicon/`` (rhyme usage, seasons,
bigrams, the copy guard's corpus lines), ``lines/`` (the built-in line index) and ``model/`` (the
shipped model). Modules ask for a file by its place there, so moving code never moves data.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ASSETS", "asset_path"]

ASSETS = Path(__file__).resolve().parent / "assets"
"""The package's data folder (installed with the package: ``[tool.setuptools.package-data]``)."""


def asset_path(*parts: str) -> Path:
    """``asset_path("prosody", "cipu.json")``: a shipped file, whether or not it exists yet."""
    return ASSETS.joinpath(*parts)
