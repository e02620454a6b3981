"""Reading the line index: exact lookups, lines with a character, near misses, the next line.

Opened read-only (``mode=ro``), one connection per ``LineIndex``; SQLite pages are shared through
the OS cache, so a bot's RSS grows by the page cache it uses, not by the file size. Lookups take a
normalised line (``normalize_line``); the helpers here normalise what they are given.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from poetcore.lines.schema import MAX_LINE, SCHEMA_VERSION, char_gram
from poetcore.paths import asset_path
from poetcore.text.normalize import normalize_line

__all__ = ["BUILTIN_INDEX", "IndexInfo", "LineIndex", "LineRecord", "builtin_index_path", "open_line_index"]

log = logging.getLogger(__name__)

BUILTIN_INDEX = "builtin-lines.sqlite"
"""The small index inside the package (唐诗三百首, 千家诗, 宋词三百首)."""

_NEAR_CANDIDATES_PER_GRAM = 4000
_CHUNK = 900  # SQLite's default limit on bound parameters is 999


@dataclass(frozen=True)
class LineRecord:
    """One distinct verse line and where it comes from (its most famous poem)."""

    id: int  # also its fame rank: smaller is more famous
    text: str
    poem_id: int
    index: int  # 0-based position of the line in its poem
    dynasty: str
    author: str
    title: str
    collection: str

    @property
    def source(self) -> str:
        """``唐·李白《静夜思》``."""
        return f"{self.dynasty}·{self.author}《{self.title}》"


@dataclass(frozen=True)
class IndexInfo:
    name: str  # "full", "builtin", or what the builder was told
    path: Path
    lines: int
    poems: int
    built_at: str


_SELECT = ("SELECT l.id, l.text, l.poem_id, l.idx, p.dynasty, p.author, p.title, p.collection "
           "FROM lines l JOIN poems p ON p.id = l.poem_id")


class LineIndex:
    """Read-only queries on one index file (thread-safe: one lock around the connection)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = f"file:{path.resolve()}?mode=ro"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{path} is not a line index ({exc})") from exc
        if meta.get("schema") != SCHEMA_VERSION:
            self._db.close()
            raise ValueError(f"{path} has schema {meta.get('schema')!r}, this poetcore reads {SCHEMA_VERSION!r}; "
                             "rebuild it with `poetcore data lines`")
        self.info = IndexInfo(meta.get("name", "?"), path, int(meta.get("lines", 0)), int(meta.get("poems", 0)),
                              meta.get("built_at", "?"))

    def close(self) -> None:
        self._db.close()

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    @staticmethod
    def _record(row: tuple) -> LineRecord:  # type: ignore[type-arg]
        return LineRecord(*row)

    # ----------------------------------------------------------------- queries
    def lookup(self, line: str) -> LineRecord | None:
        """The line itself, after normalising punctuation, traditional characters and variants."""
        text = normalize_line(line)
        if not text:
            return None
        rows = self._rows(f"{_SELECT} WHERE l.text = ?", (text,))
        return self._record(rows[0]) if rows else None

    def famous_lines(self, min_fame: float, lengths: tuple[int, ...] = (5, 7)) -> list[str]:
        """Every line of a poem at least this famous (the 蒙学 collections rank highest)."""
        marks = ",".join("?" * len(lengths))
        return [r[0] for r in self._rows(f"SELECT text FROM lines WHERE fame >= ? AND length IN ({marks})",
                                         (min_fame, *lengths))]

    def get(self, line_id: int) -> LineRecord | None:
        rows = self._rows(f"{_SELECT} WHERE l.id = ?", (line_id,))
        return self._record(rows[0]) if rows else None

    def with_char(self, token: str, *, position: int | None = None, lengths: tuple[int, ...] = (5, 7),
                  limit: int = 20, exclude: frozenset[int] | set[int] = frozenset(),
                  max_rank: int | None = None) -> list[LineRecord]:
        """Lines containing ``token`` (a character or a word), most famous first.

        ``position`` (1-based) asks for the token to start there; ``lengths`` limits line lengths;
        ``max_rank`` keeps only the ``max_rank`` most famous lines (how the easy bot forgets).
        """
        token = normalize_line(token)
        if not token:
            return []
        first = token[0]
        positions = [position] if position else list(range(1, MAX_LINE + 1))
        found: dict[int, None] = {}
        # Each position's postings are sorted by line id (= fame): take the best of each, merge.
        want = limit + len(exclude)
        for pos in positions:
            sql = "SELECT line_id FROM grams WHERE gram = ?"
            params: list[object] = [char_gram(first, pos)]
            if max_rank:
                sql += " AND line_id <= ?"
                params.append(max_rank)
            sql += " ORDER BY line_id LIMIT ?"
            params.append(want * 4 if (len(token) > 1 or lengths) else want)
            for (lid,) in self._rows(sql, tuple(params)):
                if lid not in exclude:
                    found[lid] = None
        out: list[LineRecord] = []
        for rec in self._records(sorted(found)):
            if lengths and len(rec.text) not in lengths:
                continue
            at = rec.text.find(token)
            if at < 0 or (position and at != position - 1):
                continue
            out.append(rec)
            if len(out) >= limit:
                break
        return out

    def near_misses(self, line: str, *, containing: str | None = None, max_distance: int = 2,
                    limit: int = 3) -> list[tuple[LineRecord, int]]:
        """Real lines within ``max_distance`` edits of ``line`` (and containing ``containing``):
        (record, distance), closest and most famous first. Candidates share a bigram with the line."""
        text = normalize_line(line)
        need = normalize_line(containing) if containing else ""
        if len(text) < 2:
            return []
        ids: set[int] = set()
        for i in range(len(text) - 1):
            rows = self._rows("SELECT line_id FROM grams WHERE gram = ? ORDER BY line_id LIMIT ?",
                              (text[i:i + 2], _NEAR_CANDIDATES_PER_GRAM))
            ids.update(lid for (lid,) in rows)
        hits: list[tuple[int, int, int]] = []
        for chunk in _chunks(sorted(ids)):
            marks = ",".join("?" * len(chunk))
            for lid, cand in self._rows(f"SELECT id, text FROM lines WHERE id IN ({marks}) AND length BETWEEN ? AND ?",
                                        (*chunk, len(text) - max_distance, len(text) + max_distance)):
                if cand == text or (need and need not in cand):
                    continue
                d = Levenshtein.distance(text, cand, score_cutoff=max_distance)
                if d <= max_distance:
                    hits.append((d, lid, 0))
        hits.sort()
        records = {r.id: r for r in self._records([lid for _d, lid, _ in hits[:limit]])}
        return [(records[lid], d) for d, lid, _ in hits[:limit] if lid in records]

    def random_line(self, rng: random.Random, *, max_rank: int | None = None,
                    collections: frozenset[str] | None = None, lengths: tuple[int, ...] = (5, 7),
                    exclude: frozenset[int] | set[int] = frozenset()) -> LineRecord | None:
        """A random line among the ``max_rank`` most famous (or from ``collections``), for quizzes."""
        marks = ",".join("?" * len(lengths))
        if collections:
            cmarks = ",".join("?" * len(collections))
            ids = [i for (i,) in self._rows(
                f"SELECT l.id FROM lines l JOIN poems p ON p.id = l.poem_id WHERE l.length IN ({marks}) "
                f"AND p.collection IN ({cmarks}) AND l.id <= ? ORDER BY random() LIMIT 50",
                (*lengths, *sorted(collections), max_rank or self.info.lines))]
        else:
            top = min(max_rank or self.info.lines, self.info.lines)
            ids = [rng.randint(1, top) for _ in range(200)] if top else []
        for line_id in ids:
            if line_id in exclude:
                continue
            record = self.get(line_id)
            if record is not None and len(record.text) in lengths:
                return record
        return None

    def neighbour(self, record: LineRecord, offset: int) -> str | None:
        """The line ``offset`` places after (negative: before) ``record`` in its poem."""
        lines = self.poem_lines(record.poem_id)
        at = record.index + offset
        return lines[at] if 0 <= at < len(lines) else None

    def poem_lines(self, poem_id: int) -> list[str]:
        """The normalised lines of a poem, in order."""
        rows = self._rows("SELECT body FROM poems WHERE id = ?", (poem_id,))
        return rows[0][0].split("\n") if rows else []

    def next_line(self, record: LineRecord) -> str | None:
        """The line after ``record`` in its poem, if any."""
        return self.neighbour(record, 1)

    def _records(self, ids: list[int]) -> list[LineRecord]:
        out: dict[int, LineRecord] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self._rows(f"{_SELECT} WHERE l.id IN ({marks})", tuple(chunk)):
                rec = self._record(row)
                out[rec.id] = rec
        return [out[i] for i in ids if i in out]


def _chunks(ids: list[int]) -> list[list[int]]:
    return [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def builtin_index_path() -> Path:
    return asset_path("lines", BUILTIN_INDEX)


def open_line_index(path: Path | None) -> LineIndex:
    """The index at ``path``, or the built-in one when ``path`` is unset, missing or unreadable.

    A fallback is logged with what to do about it; it never raises for a bad full index.
    """
    if path is not None:
        if path.exists():
            try:
                index = LineIndex(path)
                log.info("line index: %s (%d lines, built %s)", path, index.info.lines, index.info.built_at)
                return index
            except (ValueError, sqlite3.Error) as exc:
                log.error("line index: cannot read %s (%s); using the built-in index. Rebuild it with "
                          "`poetcore data lines`", path, exc)
        else:
            log.warning("line index: %s does not exist; using the built-in index (唐诗三百首, 千家诗, 宋词三百首). "
                        "Build the full one with `poetcore data lines` (or `poetcore data prepare`)", path)
    index = LineIndex(builtin_index_path())
    log.info("line index: built-in (%d lines from 唐诗三百首, 千家诗, 宋词三百首)", index.info.lines)
    return index
