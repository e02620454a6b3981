"""Building the line index (schema: `poetcore.lines.schema`): written once, then opened read-only by every bot.

The full index holds every verse line of the package; the built-in one (``builtin_only``) the
lines of the most famous poems (`poetcore.data.line_fame`) up to ``BUILTIN_LINES`` distinct lines,
the short collections' poems always among them, and ships compressed (``.xz``). Both are written
from the same reading of the whole package, so a line has the same fame in both.
"""

from __future__ import annotations

import lzma
import sqlite3
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from poetcore.data.line_fame import FAMOUS_COLLECTIONS, compute_fame, poem_kind
from poetcore.data.line_sources import SourcePoem, iter_source_poems, primer_lines
from poetcore.lines.schema import (
    CHAR_POSTINGS_CAP,
    NEAR_POSTINGS_CAP,
    SCHEMA_VERSION,
    SLIP_MIN_FAME,
    char_gram,
)

__all__ = ["BUILTIN_LINES", "BUILTIN_SHARES", "BuildReport", "build_line_index", "select_builtin"]

BUILTIN_LINES = 80_000
"""Distinct lines (whole lines, not counting parts and other readings) in the built-in index."""

BUILTIN_SHARES = {"唐诗": 0.40, "宋诗": 0.25, "词": 0.27, "古诗": 0.08}
"""How the built-in index's lines are shared among the kinds of poem (`poem_kind`; 曲 gets none): what
school books and the 中国诗词大会 ask is mostly 唐诗, then 宋诗 and 词, then 诗经 and 楚辞."""


@dataclass(frozen=True)
class BuildReport:
    path: Path
    poems: int
    lines: int
    grams: int
    bytes: int
    seconds: float
    collections: dict[str, int]


def select_builtin(poems: list[SourcePoem], poem_fame: np.ndarray, budget: int = BUILTIN_LINES,
                   always: np.ndarray | None = None) -> list[int]:
    """The poems of the built-in index, most famous first: every poem of the short collections (and
    ``always``: the school canon), then each kind's most famous others (`poem_kind`) while their new
    lines fit in its share of ``budget``."""
    famous = set(FAMOUS_COLLECTIONS)
    must = [poems[i].collection in famous or bool(always is not None and always[i]) for i in range(len(poems))]
    order = sorted(range(len(poems)), key=lambda i: (not must[i], -poem_fame[i], i))
    room = {kind: int(share * budget) for kind, share in BUILTIN_SHARES.items()}
    chosen: list[int] = []
    seen: set[str] = set()
    for i in order:
        kind = poem_kind(poems[i])
        new = {line for line in poems[i].lines if line not in seen}
        if not must[i] and len(new) > room.get(kind, 0):
            continue
        room[kind] = room.get(kind, 0) - len(new)
        chosen.append(i)
        seen |= new
    return sorted(chosen, key=lambda i: (-poem_fame[i], i))


def build_line_index(source: Path, out: Path, *, builtin_only: bool = False, name: str | None = None,
                     budget: int = BUILTIN_LINES, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Build the index from the package at ``source`` into ``out`` (atomically replaced; ``.xz``: compressed)."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    say("reading poems")
    poems = [p for p in iter_source_poems(source) if p.lines]
    say(f"ranking {len(poems):,} poems")
    fame = compute_fame(poems, primer_lines(source))
    picked = select_builtin(poems, fame.poems, budget, fame.canon) if builtin_only else list(range(len(poems)))

    # Each distinct line once: ranked by its best fame, shown from a short collection's poem when one
    # holds it (唐·李白《静夜思》, not the 全唐诗 copy), else from the poem where it is most famous.
    famous = set(FAMOUS_COLLECTIONS)
    best: dict[str, tuple[float, int, tuple[bool, float], int, int]] = {}  # line -> (fame, order, home key, row, j)
    order = 0
    for row, i in enumerate(picked):
        poem, fames = poems[i], fame.lines[i]
        texts = [(line, j) for j, line in enumerate(poem.lines)] + list(poem.aliases)
        for text, j in texts:
            order += 1
            f = float(fames[j])
            home = (poem.collection in famous, f)
            current = best.get(text)
            if current is None:
                best[text] = (f, order, home, row, j)
            elif home > current[2]:
                best[text] = (max(f, current[0]), current[1], home, row, j)
            elif f > current[0]:
                best[text] = (f, *current[1:])
    say(f"ranking {len(best):,} lines")
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    famous_lines = sum(1 for _text, (f, *_rest) in ranked if f >= SLIP_MIN_FAME)
    collections: dict[str, int] = {}
    for i in picked:
        collections[poems[i].collection] = collections.get(poems[i].collection, 0) + 1

    plain = out.with_suffix("") if out.suffix == ".xz" else out
    tmp = plain.with_name(plain.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    grams = 0
    try:
        db.executescript(
            """
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -200000;
            PRAGMA page_size = 4096; PRAGMA encoding = 'UTF-16le';
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE poems(id INTEGER PRIMARY KEY, collection TEXT, dynasty TEXT, author TEXT, title TEXT,
                               fame REAL, body BLOB);
            CREATE TABLE lines(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE, poem_id INTEGER NOT NULL,
                               idx INTEGER NOT NULL);
            CREATE TABLE grams(gram TEXT PRIMARY KEY, ids BLOB NOT NULL) WITHOUT ROWID;
            """
        )
        line_id = {text: lid for lid, (text, _info) in enumerate(ranked, start=1)}
        db.executemany("INSERT INTO poems VALUES (?,?,?,?,?,?,?)",
                       ((row + 1, p.collection, p.dynasty, p.author, p.title, round(float(fame.poems[i]), 4),
                         _le_bytes(array("I", (line_id[line] for line in p.lines))))
                        for row, i in enumerate(picked) for p in (poems[i],)))
        del line_id
        say("writing lines")
        db.executemany("INSERT INTO lines VALUES (?,?,?,?)",
                       ((lid, text, row + 1, j) for lid, (text, (*_f, row, j)) in enumerate(ranked, start=1)))
        say("writing postings")
        postings: dict[str, array[int]] = {}
        for lid, (text, _info) in enumerate(ranked, start=1):
            for keys, cap in (({char_gram(ch, i) for i, ch in enumerate(text, start=1)}, CHAR_POSTINGS_CAP),
                              ({text[i:i + 2] for i in range(len(text) - 1)}, NEAR_POSTINGS_CAP)):
                for key in keys:
                    ids = postings.get(key)
                    if ids is None:
                        postings[key] = array("I", (lid,))
                    elif len(ids) < cap:
                        ids.append(lid)
        for key in sorted(postings):
            ids = postings[key]
            grams += len(ids)
            db.execute("INSERT INTO grams VALUES (?,?)", (key, _le_bytes(ids)))
        del postings
        meta = {
            "schema": SCHEMA_VERSION,
            "name": name or ("builtin" if builtin_only else "full"),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source.name,
            "poems": str(len(picked)),
            "lines": str(len(ranked)),
            "famous_lines": str(famous_lines),
            "collections": ",".join(f"{k}:{v}" for k, v in sorted(collections.items())),
        }
        db.executemany("INSERT INTO meta VALUES (?,?)", meta.items())
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()
    if out.suffix == ".xz":
        out_tmp = out.with_name(out.name + ".tmp")
        out_tmp.write_bytes(lzma.compress(tmp.read_bytes(), preset=9 | lzma.PRESET_EXTREME))
        tmp.unlink()
        out_tmp.replace(out)
    else:
        tmp.replace(out)
    return BuildReport(out, len(picked), len(ranked), grams, out.stat().st_size, time.perf_counter() - started,
                       collections)


def _le_bytes(ids: array[int]) -> bytes:
    """The ids as little-endian uint32, what the index reads."""
    assert ids.itemsize == 4, f"array('I') is {ids.itemsize} bytes here, the index wants 4"
    if sys.byteorder == "little":
        return ids.tobytes()
    swapped = array(ids.typecode, ids)
    swapped.byteswap()
    return swapped.tobytes()
