"""Read and write the prepared corpus: `<dir>/{train,valid,test}.jsonl.gz` + `manifest.json`."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from poetcore.data.split import SPLITS
from poetcore.errors import PoetcoreInputError

MANIFEST = "manifest.json"
CI_SPLIT_PREFIX = "ci_"
"""`<dir>/ci_train.jsonl.gz` etc.: the 词, kept apart from the 诗 splits, whose validation set stays fixed."""
ALL_SPLITS = (*SPLITS, *(CI_SPLIT_PREFIX + s for s in SPLITS))


def split_path(path: str | Path, split: str) -> Path:
    """`<dir>/<split>.jsonl.gz`; rejects unknown split names."""
    if split not in ALL_SPLITS:
        raise PoetcoreInputError(
            "unknown_split",
            f"没有名为 {split!r} 的数据划分，可选：{', '.join(ALL_SPLITS)}。",
            f"No split named {split!r}; choose one of {', '.join(ALL_SPLITS)}.",
        )
    return Path(path) / f"{split}.jsonl.gz"


def iter_poems(path: str | Path, split: str) -> Iterator[dict[str, Any]]:
    """Yield the poems of one split, one dict per poem (schema in docs/design.md)."""
    file = split_path(path, split)
    if not file.is_file():
        raise PoetcoreInputError(
            "corpus_missing",
            f"找不到 {file}。请先运行 `poetcore data prepare --out {Path(path)}`。",
            f"{file} not found. Run `poetcore data prepare --out {Path(path)}` first.",
        )
    with gzip.open(file, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_split(path: str | Path, split: str) -> list[dict[str, Any]]:
    """All poems of one split as a list."""
    return list(iter_poems(path, split))


def read_manifest(path: str | Path) -> dict[str, Any] | None:
    """The manifest of a prepared corpus dir, or None if there is none (or it is unreadable)."""
    file = Path(path) / MANIFEST
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_split(path: Path, split: str, poems: Iterable[dict[str, Any]]) -> int:
    """Write one split atomically (tmp file + rename); return the number of poems."""
    file = split_path(path, split)
    tmp = file.with_name(file.name + ".tmp")
    n = 0
    # mtime=0: identical input gives byte-identical files.
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for poem in poems:
            gz.write((json.dumps(poem, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
            n += 1
    tmp.replace(file)
    return n


def write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    tmp = path / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path / MANIFEST)
