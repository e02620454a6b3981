"""Replacement suggestions for the characters that break a poem's 格律, ranked by the corpus.

For each 犯律 position (a wrong tone, the character that would rescue 孤平, the first of a 三平尾
tail, a rhyme that does not rhyme, the 2nd character of a line that breaks 粘/对) the candidates are characters the corpus writes next to the
neighbours (``BigramTable``: adjacent pairs inside the training lines, count >= ``MIN_COUNT``),
scored by ``count(left + c) + count(c + right)``. A candidate is kept only when the poem, with it
in place, no longer has that violation and has no new 犯律 at that position: suggestions are
checked, not guessed. Like `/check`, this needs no model.
"""

from __future__ import annotations

import gzip
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from poetcore.checker import CheckReport, Violation, check
from poetcore.rhymes import RhymeTable

__all__ = ["BIGRAMS_PATH", "MIN_COUNT", "BigramTable", "Suggestion", "suggest"]

BIGRAMS_PATH = Path(__file__).parent / "assets" / "lexicon" / "bigrams.tsv.gz"
MIN_COUNT = 5
POOL = 60
"""Best-scored candidates tried per position before giving up (each try is one `check`)."""


class BigramTable:
    """Counts of adjacent character pairs inside corpus lines, indexed both ways."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.after: dict[str, dict[str, int]] = defaultdict(dict)  # left -> {next: count}
        self.before: dict[str, dict[str, int]] = defaultdict(dict)  # right -> {previous: count}
        for pair, n in counts.items():
            self.after[pair[0]][pair[1]] = n
            self.before[pair[1]][pair[0]] = n

    def count(self, pair: str) -> int:
        return self.counts.get(pair, 0)

    @classmethod
    def derive(cls, lines: Iterable[str], min_count: int = MIN_COUNT) -> BigramTable:
        counts: Counter[str] = Counter()
        for line in lines:
            counts.update(line[i : i + 2] for i in range(len(line) - 1))
        return cls({p: n for p, n in counts.items() if n >= min_count})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{p}\t{n}\n" for p, n in sorted(self.counts.items()))
        # No name, no time in the header: the same corpus gives byte-identical files.
        with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f:
            f.write(body.encode("utf-8"))

    @classmethod
    def load(cls, path: Path = BIGRAMS_PATH) -> BigramTable:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            pairs = (line.rstrip("\n").split("\t") for line in f if line.strip())
            return cls({p: int(n) for p, n in pairs})

    @classmethod
    def default(cls) -> BigramTable:
        return _default()


@lru_cache(maxsize=1)
def _default() -> BigramTable:
    return BigramTable.load()


@dataclass(frozen=True)
class Suggestion:
    """Up to ``k`` replacements for the character at (line, position), best first."""

    line: int
    position: int
    char: str
    violation: str  # the code it fixes
    replacements: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"line": self.line, "position": self.position, "char": self.char, "violation": self.violation,
                "replacements": list(self.replacements)}


def _fixes(text_lines: list[str], form: str, line: int, pos: int, code: str, ch: str) -> bool:
    trial = [list(x) for x in text_lines]
    trial[line][pos] = ch
    report = check("，".join("".join(x) for x in trial), form=form)
    return not any(v.line == line and (v.code == code or v.position == pos) for v in report.violations)


def suggest(report: CheckReport, k: int = 5, bigrams: BigramTable | None = None,
            table: RhymeTable | None = None) -> list[Suggestion]:
    """Suggestions for every 犯律 position of ``report`` that has a character to replace."""
    bigrams = bigrams or BigramTable.default()
    table = table or RhymeTable.default()
    lines = report.lines
    used = set("".join(lines))
    out: list[Suggestion] = []
    seen: set[tuple[int, int]] = set()
    for v in report.violations:
        if v.position is None or (v.line, v.position) in seen:
            continue
        seen.add((v.line, v.position))
        out.append(_suggest_one(report, v, k, bigrams, table, used))
    return [s for s in out if s.replacements]


def _suggest_one(report: CheckReport, v: Violation, k: int, bigrams: BigramTable, table: RhymeTable,
                 used: set[str]) -> Suggestion:
    line, pos = v.line, v.position
    assert pos is not None
    text = report.lines[line]
    left = text[pos - 1] if pos > 0 else None
    right = text[pos + 1] if pos + 1 < len(text) else None
    scores: Counter[str] = Counter()
    if left is not None:
        scores.update(bigrams.after.get(left, {}))
    if right is not None:
        scores.update(bigrams.before.get(right, {}))
    found: list[str] = []
    tries = 0
    here = table.tones(text[pos])
    for ch, _ in scores.most_common():
        if len(found) >= k or tries >= POOL:
            break
        if ch in used or not table.tones(ch):
            continue
        if v.code == "rhyme":
            if report.rhyme_group_id is None or report.rhyme_group_id not in table.ping_groups(ch):
                continue
        elif table.tones(ch) == here:
            continue  # the same tone cannot fix a tone fault
        tries += 1
        if _fixes(report.lines, report.form, line, pos, v.code, ch):
            found.append(ch)
    return Suggestion(line, pos, text[pos], v.code, tuple(found))
