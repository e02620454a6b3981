"""Reading the line index: lookups, lines with a character, near misses, slips, the next line, puzzles.

Opened read-only (``mode=ro``), one connection per ``LineIndex``; SQLite pages are shared through
the OS cache, so a bot's RSS grows by the page cache it uses, not by the file size. The built-in
index ships xz-compressed: it is unpacked once into the user's cache folder (in memory when that is
not writable). Lookups take a normalised line (``normalize_line``); the helpers here normalise what
they are given.

How a player's line meets the corpus (`LineIndex.match`):

- **exact**: the line, after normalising punctuation, traditional characters and variant forms;
  another edition's reading of a corrected line is a line too (春风自绿江南岸);
- **variant**: equal up to characters that stand for one another in verse
  (`poetcore.text.variants.LOOSE_VARIANTS`: 钟山只隔 for the package's 钟山祇隔);
- **slip**: one character off a famous line (line fame ≥ ``SLIP_MIN_FAME``), the same length, the
  difference not on the 令字: a copying slip of the package or of the player's memory. Accepted, and
  the reply shows the corpus text.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import lzma
import os
import random
import sqlite3
import sys
import tempfile
import threading
from array import array
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rapidfuzz.distance import Levenshtein

from poetcore.lines.schema import MAX_LINE, NEAR_POSTINGS_CAP, SCHEMA_VERSION, char_gram
from poetcore.paths import asset_path
from poetcore.text.normalize import normalize_line
from poetcore.text.variants import LOOSE_VARIANTS

__all__ = ["BUILTIN_INDEX", "PUZZLE_POOLS", "SHORT_COLLECTIONS", "IndexInfo", "LineIndex", "LineMatch", "LineRecord", "builtin_index_path",
           "open_line_index"]

log = logging.getLogger(__name__)

BUILTIN_INDEX = "builtin-lines.sqlite.xz"
"""The index inside the package: the most famous poems (`poetcore.data.line_build.BUILTIN_LINES`)."""

PUZZLE_POOLS: dict[str, tuple[int | None, frozenset[str] | None]] = {
    "蒙学": (900, None),
    "常见": (1800, None),
    "全库": (None, None),
}
"""Where the puzzles (接句, 猜诗句) draw their lines, by level: (among the most famous lines up to this
rank; of these collections). Ranks are line-fame ranks: the built-in index holds the famous poems,
so its first ranks are nearly the full index's."""

SHORT_COLLECTIONS = ("唐诗三百首", "千家诗", "宋词三百首", "水墨唐诗")
"""The package's own short collections of famous poems (`poetcore.data.line_fame.FAMOUS_COLLECTIONS`)."""

_CHUNK = 900  # SQLite's default limit on bound parameters is 999
_MAX_VARIANT_FORMS = 64  # loose-variant spellings of one line tried at most
_POOL_CACHE = 16

_LOOSE_GROUPS: dict[str, str] = {}
for _ch, _rep in LOOSE_VARIANTS.items():
    _LOOSE_GROUPS[_rep] = _LOOSE_GROUPS.get(_rep, _rep) + _ch
for _rep, _group in list(_LOOSE_GROUPS.items()):
    for _ch in _group:
        _LOOSE_GROUPS[_ch] = _group

MatchKind = Literal["exact", "variant", "slip"]


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
class LineMatch:
    """A player's line and the corpus line it was taken for."""

    record: LineRecord
    typed: str  # the player's line, normalised
    kind: MatchKind

    @property
    def differs(self) -> bool:
        """Whether the corpus writes it otherwise (then the reply shows ``record.text``)."""
        return self.record.text != self.typed


@dataclass(frozen=True)
class IndexInfo:
    name: str  # "full", "builtin", or what the builder was told
    path: Path
    lines: int
    poems: int
    built_at: str
    famous_lines: int = 0  # the first ids whose line fame is at least SLIP_MIN_FAME


_SELECT = ("SELECT l.id, l.text, l.poem_id, l.idx, p.dynasty, p.author, p.title, p.collection "
           "FROM lines l JOIN poems p ON p.id = l.poem_id")


class LineIndex:
    """Read-only queries on one index file (thread-safe: one lock around the connection)."""

    def __init__(self, path: Path) -> None:
        self._db, self.path = _connect(path)  # path: the SQLite file read (a compressed index's unpacked copy)
        self._lock = threading.Lock()
        self._pools: dict[tuple[object, ...], list[int]] = {}
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise ValueError(f"{path} is not a line index ({exc})") from exc
        if meta.get("schema") != SCHEMA_VERSION:
            self._db.close()
            raise ValueError(f"{path} has schema {meta.get('schema')!r}, this poetcore reads {SCHEMA_VERSION!r}; "
                             "rebuild it with `poetcore data lines`")
        self.info = IndexInfo(meta.get("name", "?"), self.path, int(meta.get("lines", 0)), int(meta.get("poems", 0)),
                              meta.get("built_at", "?"), int(meta.get("famous_lines", 0)))

    def close(self) -> None:
        self._db.close()

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _postings(self, gram: str, limit: int, max_id: int | None = None) -> array[int]:
        """The first ``limit`` line ids of a gram (fame order), up to ``max_id``."""
        rows = self._rows("SELECT substr(ids, 1, ?) FROM grams WHERE gram = ?", (min(limit, 1 << 28) * 4, gram))
        ids = _uint32(rows[0][0] if rows else b"")
        if max_id is not None:
            del ids[bisect_right(ids, max_id):]
        return ids

    @staticmethod
    def _record(row: tuple) -> LineRecord:  # type: ignore[type-arg]
        return LineRecord(*row)

    # ----------------------------------------------------------------- queries
    def lookup(self, line: str) -> LineRecord | None:
        """The line itself (after normalising punctuation, traditional characters and variant forms),
        or the line it is up to characters that stand for one another (`LineMatch` says which)."""
        found = self.match(line, slips=False)
        return found.record if found else None

    def match(self, line: str, *, containing: str | None = None, slips: bool = True) -> LineMatch | None:
        """The corpus line a player's ``line`` is: exact, a variant spelling, or (``slips``) one
        character off a famous line without touching ``containing`` (the 令字). None: not a line."""
        text = normalize_line(line)
        if not text:
            return None
        rows = self._rows(f"{_SELECT} WHERE l.text = ?", (text,))
        if rows:
            return LineMatch(self._record(rows[0]), text, "exact")
        records = self._records_by_text(_variant_forms(text))
        if records:
            return LineMatch(min(records, key=lambda r: r.id), text, "variant")
        if slips:
            slip = self._slip(text, normalize_line(containing) if containing else "")
            if slip is not None:
                return LineMatch(slip, text, "slip")
        return None

    def _slip(self, text: str, token: str) -> LineRecord | None:
        """The most famous line of the same length one character off ``text``, not at ``token``."""
        if len(text) < 4 or not self.info.famous_lines:
            return None
        guarded = {i for at in _occurrences(text, token) for i in range(at, at + len(token))}
        ids: set[int] = set()
        for i in range(len(text) - 1):
            ids.update(self._postings(text[i:i + 2], self.info.famous_lines, self.info.famous_lines))
        best: tuple[int, str] | None = None
        for lid, cand in self._texts(sorted(ids)):
            if len(cand) != len(text) or (token and token not in cand):
                continue
            diff = [i for i, (a, b) in enumerate(zip(cand, text, strict=True)) if a != b]
            if len(diff) == 1 and diff[0] not in guarded and (best is None or lid < best[0]):
                best = (lid, cand)
        return self.get(best[0]) if best else None

    def famous_lines(self, min_fame: float, lengths: tuple[int, ...] = (5, 7)) -> list[str]:
        """Every line of a poem at least this famous (poem fame, in (0, 1)) or of one of the package's
        short collections (唐诗三百首, 千家诗, 宋词三百首, 水墨唐诗): what the copy guard adds to the corpus."""
        marks, cmarks = ",".join("?" * len(lengths)), ",".join("?" * len(SHORT_COLLECTIONS))
        return [r[0] for r in self._rows(
            f"SELECT l.text FROM lines l JOIN poems p ON p.id = l.poem_id WHERE (p.fame >= ? OR p.collection "
            f"IN ({cmarks})) AND length(l.text) IN ({marks})", (min_fame, *SHORT_COLLECTIONS, *lengths))]

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
        found: set[int] = set()
        # Each position's postings are in fame order: take the best of each, merge.
        want = limit + len(exclude)
        take = want * 4 if (len(token) > 1 or lengths) else want
        for pos in positions:
            found.update(lid for lid in self._postings(char_gram(first, pos), take, max_rank) if lid not in exclude)
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
            ids.update(self._postings(text[i:i + 2], NEAR_POSTINGS_CAP))
        hits: list[tuple[int, int]] = []
        for lid, cand in self._texts(sorted(ids)):
            if cand == text or abs(len(cand) - len(text)) > max_distance or (need and need not in cand):
                continue
            d = Levenshtein.distance(text, cand, score_cutoff=max_distance)
            if d <= max_distance:
                hits.append((d, lid))
        hits.sort()
        records = {r.id: r for r in self._records([lid for _d, lid in hits[:limit]])}
        return [(records[lid], d) for d, lid in hits[:limit] if lid in records]

    def random_line(self, rng: random.Random, *, max_rank: int | None = None,
                    collections: frozenset[str] | None = None, lengths: tuple[int, ...] = (5, 7),
                    exclude: frozenset[int] | set[int] = frozenset()) -> LineRecord | None:
        """A random whole line (not a part, not another reading) among the ``max_rank`` most famous
        lines, of ``collections`` when given: the puzzles' question."""
        top = min(max_rank or self.info.lines, self.info.lines)
        if collections:
            ids = self._pool(top, collections, lengths)
            picks = rng.sample(ids, min(len(ids), 200))
        else:
            picks = [rng.randint(1, top) for _ in range(200)] if top else []
        for line_id in picks:
            if line_id in exclude:
                continue
            record = self.get(line_id)
            if record is not None and len(record.text) in lengths and self._whole(record):
                return record
        return None

    def puzzle_pair(self, rng: random.Random, *, offset: int = 1, max_rank: int | None = None,
                    collections: frozenset[str] | None = None, lengths: tuple[int, ...] = (5, 7),
                    exclude: frozenset[int] | set[int] = frozenset(), tries: int = 40) -> tuple[LineRecord, str] | None:
        """A 接句 question: a famous whole line (`random_line`) and its neighbour ``offset`` away in
        the same couplet (床前明月光 → 疑是地上霜, never 疑是地上霜 → 举头望明月: the question is a
        couplet's first line, or its second for ``offset`` -1, and both are of one length), the
        neighbour itself among the ``max_rank`` most famous lines. None when the pool has none left."""
        skip = set(exclude)
        top = min(max_rank or self.info.lines, self.info.lines)
        for _ in range(tries):
            record = self.random_line(rng, max_rank=max_rank, collections=collections, lengths=lengths, exclude=skip)
            if record is None:
                return None
            skip.add(record.id)
            if abs(offset) != 1 or (record.index % 2 == 0) != (offset > 0):
                continue  # offset +1 asks from a couplet's first line, -1 from its second
            ids = self._body(record.poem_id)
            at = record.index + offset
            if 0 <= at < len(ids) and ids[at] <= top:
                wanted = self.get(ids[at])
                if wanted is not None and wanted.text != record.text and len(wanted.text) == len(record.text):
                    return record, wanted.text
        return None

    def _pool(self, top: int, collections: frozenset[str], lengths: tuple[int, ...]) -> list[int]:
        key = (top, tuple(sorted(collections)), lengths)
        if key not in self._pools:
            marks, cmarks = ",".join("?" * len(lengths)), ",".join("?" * len(collections))
            self._pools[key] = [i for (i,) in self._rows(
                f"SELECT l.id FROM lines l JOIN poems p ON p.id = l.poem_id WHERE l.id <= ? "
                f"AND length(l.text) IN ({marks}) AND p.collection IN ({cmarks}) ORDER BY l.id",
                (top, *lengths, *sorted(collections)))]
            if len(self._pools) > _POOL_CACHE:
                self._pools.pop(next(iter(self._pools)))
        return self._pools[key]

    def _whole(self, record: LineRecord) -> bool:
        ids = self._body(record.poem_id)
        return 0 <= record.index < len(ids) and ids[record.index] == record.id

    def neighbour(self, record: LineRecord, offset: int) -> str | None:
        """The line ``offset`` places after (negative: before) ``record`` in its poem."""
        lines = self.poem_lines(record.poem_id)
        at = record.index + offset
        return lines[at] if 0 <= at < len(lines) else None

    def poem_lines(self, poem_id: int) -> list[str]:
        """The normalised lines of a poem, in order."""
        ids = self._body(poem_id)
        texts = dict(self._texts(sorted(set(ids))))
        return [texts[i] for i in ids]

    def _body(self, poem_id: int) -> array[int]:
        rows = self._rows("SELECT body FROM poems WHERE id = ?", (poem_id,))
        return _uint32(rows[0][0] if rows else b"")

    def next_line(self, record: LineRecord) -> str | None:
        """The line after ``record`` in its poem, if any."""
        return self.neighbour(record, 1)

    def _texts(self, ids: list[int]) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for chunk in _chunks(ids):
            out += self._rows(f"SELECT id, text FROM lines WHERE id IN ({','.join('?' * len(chunk))})", tuple(chunk))
        return out

    def _records(self, ids: list[int]) -> list[LineRecord]:
        out: dict[int, LineRecord] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for row in self._rows(f"{_SELECT} WHERE l.id IN ({marks})", tuple(chunk)):
                rec = self._record(row)
                out[rec.id] = rec
        return [out[i] for i in ids if i in out]

    def _records_by_text(self, texts: list[str]) -> list[LineRecord]:
        out: list[LineRecord] = []
        for chunk in _chunks(texts):
            out += [self._record(r) for r in self._rows(
                f"{_SELECT} WHERE l.text IN ({','.join('?' * len(chunk))})", tuple(chunk))]
        return out


def _uint32(blob: bytes) -> array[int]:
    """Little-endian uint32s, as the builder writes ids."""
    ids = array("I")
    ids.frombytes(blob)
    if sys.byteorder != "little":
        ids.byteswap()
    return ids


def _chunks(ids: list) -> list[list]:  # type: ignore[type-arg]
    return [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]


def _occurrences(text: str, token: str) -> list[int]:
    return [i for i in range(len(text)) if token and text.startswith(token, i)]


def _variant_forms(text: str) -> list[str]:
    """The other spellings of ``text`` up to `LOOSE_VARIANTS` (at most ``_MAX_VARIANT_FORMS``)."""
    choices = [_LOOSE_GROUPS.get(ch, ch) for ch in text]
    if all(len(c) == 1 for c in choices):
        return []
    forms = ("".join(chars) for chars in itertools.product(*choices))
    return [f for f in itertools.islice(forms, _MAX_VARIANT_FORMS + 1) if f != text]


def _connect(path: Path) -> tuple[sqlite3.Connection, Path]:
    """A read-only connection to the index at ``path``, and the SQLite file it reads (for a compressed
    index, its unpacked copy; ``path`` itself when that is in memory)."""
    if path.suffix == ".xz":
        plain = _unpacked(path)
        if plain is None:  # no writable cache: the whole index in memory
            db = sqlite3.connect(":memory:", check_same_thread=False)
            db.deserialize(lzma.decompress(path.read_bytes()))
            db.execute("PRAGMA query_only = 1")
            return db, path
        path = plain
    return sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, check_same_thread=False), path


def _unpacked(packed: Path) -> Path | None:
    """The unpacked copy of a compressed index in the user's cache (made once, atomically), or None."""
    data = packed.read_bytes()
    digest = hashlib.sha1(data).hexdigest()[:16]
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path(os.path.expanduser("~")) / ".cache")
    if not root.is_absolute():  # no home (a container user without one): nowhere to keep it
        return None
    cache = root / "poetcore" / "lines"
    target = cache / f"{packed.name.removesuffix('.xz')}.{digest}"
    if target.is_file():
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache, prefix=target.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(lzma.decompress(data))
        os.replace(tmp, target)
    except OSError as exc:
        log.info("line index: cannot unpack %s into %s (%s); reading it in memory", packed.name, cache, exc)
        return None
    return target


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
            log.warning("line index: %s does not exist; using the built-in index (the most famous poems). "
                        "Build the full one with `poetcore data lines` (or `poetcore data prepare`)", path)
    index = LineIndex(builtin_index_path())
    log.info("line index: built-in (%d lines of %d famous poems)", index.info.lines, index.info.poems)
    return index
