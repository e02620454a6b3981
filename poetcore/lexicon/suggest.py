"""Replacement suggestions for the characters that break a poem's 格律, ranked by the corpus.

For each 犯律 position (a wrong tone, the character that would rescue 孤平, the first of a 三平尾
tail, a rhyme that does not rhyme, the 2nd character of a line that breaks 粘/对) the candidates are characters the corpus writes next to the
neighbours (``BigramTable``: adjacent pairs inside the training lines, count >= ``MIN_COUNT``),
scored by ``count(left + c) + count(c + right)``. A candidate is kept only when the poem, with it
in place, no longer has that violation and has no new 犯律 at that position: suggestions are
checked, not guessed. Like `/check`, this needs no model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from poetcore.lexicon.bigrams import BigramTable
from poetcore.prosody.checker import CheckReport, Violation, check
from poetcore.prosody.rhymes import RhymeTable

__all__ = ["Suggestion", "suggest"]

POOL = 60
"""Best-scored candidates tried per position before giving up (each try is one `check`)."""


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
