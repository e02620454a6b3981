"""Building the line index (schema: `poetcore.lines.schema`): written once, then opened read-only by every bot."""

from __future__ import annotations

import sqlite3
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from poetcore.data.line_sources import iter_source_poems
from poetcore.lines.schema import SCHEMA_VERSION, char_gram

__all__ = ["BuildReport", "build_line_index"]

@dataclass(frozen=True)
class BuildReport:
    path: Path
    poems: int
    lines: int
    grams: int
    bytes: int
    seconds: float
    collections: dict[str, int]


def build_line_index(source: Path, out: Path, *, builtin_only: bool = False, name: str | None = None,
                     progress: Callable[[str], None] | None = None) -> BuildReport:
    """Build the index from the package at ``source`` into ``out`` (atomically replaced)."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    poems: list[tuple[str, str, str, str, float, str]] = []
    best: dict[str, tuple[float, int, int, int]] = {}  # line -> (fame, -order, poem index, line index)
    collections: dict[str, int] = {}
    order = 0
    say("reading poems")
    for poem in iter_source_poems(source, builtin_only=builtin_only):
        if not poem.lines:
            continue
        pid = len(poems)
        poems.append((poem.collection, poem.dynasty, poem.author, poem.title, poem.fame, "\n".join(poem.lines)))
        collections[poem.collection] = collections.get(poem.collection, 0) + 1
        for idx, line in enumerate(poem.lines):
            order += 1
            current = best.get(line)
            if current is None or poem.fame > current[0]:
                best[line] = (poem.fame, -order if current is None else current[1], pid, idx)
    say(f"ranking {len(best):,} lines")
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -kv[1][1]))
    tmp = out.with_name(out.name + ".tmp")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp.unlink(missing_ok=True)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(
            """
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -200000;
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE poems(id INTEGER PRIMARY KEY, collection TEXT, dynasty TEXT, author TEXT, title TEXT,
                               fame REAL, body TEXT);
            CREATE TABLE lines(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE, length INTEGER NOT NULL,
                               poem_id INTEGER NOT NULL, idx INTEGER NOT NULL, fame REAL NOT NULL);
            CREATE TABLE grams(gram TEXT NOT NULL, line_id INTEGER NOT NULL, PRIMARY KEY (gram, line_id))
                WITHOUT ROWID;
            """
        )
        db.executemany("INSERT INTO poems VALUES (?,?,?,?,?,?,?)", ((i + 1, *p) for i, p in enumerate(poems)))
        say("writing lines")
        db.executemany("INSERT INTO lines VALUES (?,?,?,?,?,?)",
                       ((lid, text, len(text), pid + 1, idx, fame)
                        for lid, (text, (fame, _o, pid, idx)) in enumerate(ranked, start=1)))
        say("writing postings")
        postings: dict[str, array[int]] = {}
        for lid, (text, _info) in enumerate(ranked, start=1):
            keys = {char_gram(ch, i) for i, ch in enumerate(text, start=1)}
            keys.update(text[i:i + 2] for i in range(len(text) - 1))
            for key in keys:
                postings.setdefault(key, array("I")).append(lid)
        grams = 0
        for key in sorted(postings):
            ids = postings[key]
            grams += len(ids)
            db.executemany("INSERT INTO grams VALUES (?,?)", ((key, i) for i in ids))
        del postings
        meta = {
            "schema": SCHEMA_VERSION,
            "name": name or ("builtin" if builtin_only else "full"),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "source": source.name,
            "poems": str(len(poems)),
            "lines": str(len(ranked)),
            "collections": ",".join(f"{k}:{v}" for k, v in sorted(collections.items())),
        }
        db.executemany("INSERT INTO meta VALUES (?,?)", meta.items())
        db.commit()
        db.execute("VACUUM")
    finally:
        db.close()
    tmp.replace(out)
    return BuildReport(out, len(poems), len(ranked), grams, out.stat().st_size, time.perf_counter() - started,
                       collections)
