"""Cleaning rules: from raw package poems to simplified, regular-form poems with aligned strains.

Each rule is a small pure function so it can be tested alone; `clean_poems` applies
them in a fixed order and counts what every step removes:

1. flagged   ids listed in `quantangshi/error/` (□, notes, missing author/title ...)
2. empty     no text at all
3. missing   a placeholder for a lost character (□ ■ ○ ●)
4. notes     editorial notes or any bracket: （一作…）, 〖1〗, 「」, [], {} ...
5. t2s       OpenCC t2s + variant table (not a drop step; counted in `t2s` stats)
6. form      not one of 五绝 七绝 五律 七律 (4 or 8 lines, all 5 or all 7 Han chars)
7. duplicate same lines after normalisation as an earlier poem (Tang first, file order)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from poetcore.text.chars import is_han
from poetcore.text.chars import to_simplified as _t2s
from poetcore.data.package import RawPoem, RawSource
from poetcore.text.variants import VARIANTS, normalize_variants

FORMS: dict[tuple[int, int], str] = {(4, 5): "五绝", (4, 7): "七绝", (8, 5): "五律", (8, 7): "七律"}
"""(number of lines, chars per line) -> form name (the shapes of poetcore.prosody.forms.FORMS)."""
FORM_NAMES: tuple[str, ...] = ("五绝", "七绝", "五律", "七律")

PLACEHOLDERS = frozenset("□■○●◻◯")
BRACKETS = frozenset("()（）[]［］【】〖〗〔〕{}｛｝《》「」『』〈〉<>＜＞")
LINE_BREAKS = "，。！？；,.!?;\n"
STRAIN_MARKS = frozenset("平仄○？")
_SPLIT_RE = re.compile(f"[{re.escape(LINE_BREAKS)}]+")
_SPACE_RE = re.compile(r"\s+")
_TITLE_NOTE_RE = re.compile(
    r"[（(\[［【〖〔{｛《「『〈<＜][^）)\]］】〗〕}｝》」』〉>＞]*[）)\]］】〗〕}｝》」』〉>＞]?"
)

STEPS: tuple[tuple[str, str], ...] = (
    ("flagged", "listed in quantangshi/error/"),
    ("empty", "no text"),
    ("missing_char", "contains □ (lost character)"),
    ("notes", "editorial notes / brackets"),
    ("form", "not 五绝/七绝/五律/七律"),
    ("duplicate", "same lines as an earlier poem"),
)
"""Drop steps in the order they are applied: (key, description)."""


@dataclass
class CorpusPoem:
    """One cleaned poem, in the schema of docs/design.md."""

    id: str
    dynasty: str
    form: str
    title: str
    author: str
    lines: list[str]
    strains: list[str] | None
    keywords: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dynasty": self.dynasty,
            "form": self.form,
            "title": self.title,
            "author": self.author,
            "lines": self.lines,
            "strains": self.strains,
            "keywords": self.keywords,
        }


@dataclass
class CleanReport:
    """Counts of what cleaning did; goes into the manifest."""

    raw: int = 0
    removed: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _ in STEPS})
    kept: int = 0
    flagged_listed: int = 0  # distinct ids in error/
    flagged_in_main: int = 0  # of those, how many are in the main files
    flag_types: Counter[str] = field(default_factory=Counter)  # error types of the dropped flagged poems
    strains: Counter[str] = field(default_factory=Counter)  # aligned / mismatch / missing
    t2s: dict[str, Any] = field(default_factory=dict)

    def steps(self) -> list[dict[str, Any]]:
        """Per-step rows: key, description, removed, remaining."""
        rows, remaining = [], self.raw
        for key, desc in STEPS:
            remaining -= self.removed[key]
            rows.append(
                {"step": key, "description": desc, "removed": self.removed[key], "remaining": remaining}
            )
        return rows


def is_empty(paragraphs: Iterable[str]) -> bool:
    return not any(_SPACE_RE.sub("", p) for p in paragraphs)


def has_placeholder(text: str) -> bool:
    return any(ch in PLACEHOLDERS for ch in text)


def has_note(text: str) -> bool:
    """Editorial notes always come in brackets (（一作…）, 〖1〗, 「…」, [一]); any bracket marks one."""
    return any(ch in BRACKETS for ch in text)


def split_lines(paragraphs: Iterable[str]) -> list[str]:
    """Split paragraphs into lines on ，。！？； (and ASCII equivalents); whitespace is dropped."""
    lines: list[str] = []
    for p in paragraphs:
        for part in _SPLIT_RE.split(p):
            seg = _SPACE_RE.sub("", part)
            if seg:
                lines.append(seg)
    return lines


def classify_form(lines: list[str]) -> str | None:
    """The regular form of these lines, or None: 4/8 lines, equal length 5/7, Han chars only."""
    if not lines:
        return None
    n = len(lines[0])
    if any(len(line) != n for line in lines) or not all(is_han(ch) for line in lines for ch in line):
        return None
    return FORMS.get((len(lines), n))


def align_strains(strain_paragraphs: list[str] | None, lines: list[str]) -> tuple[list[str] | None, str]:
    """Strains split like the text; kept only if every line has one valid mark per char.

    Returns (strains or None, status) with status "aligned", "missing" or "mismatch".
    """
    if not strain_paragraphs:
        return None, "missing"
    marks = split_lines(strain_paragraphs)
    if len(marks) != len(lines) or any(len(m) != len(line) for m, line in zip(marks, lines, strict=True)):
        return None, "mismatch"
    if not all(ch in STRAIN_MARKS for m in marks for ch in m):
        return None, "mismatch"
    return marks, "aligned"


def to_simplified(text: str) -> str:
    """OpenCC t2s (phrase-aware), then the variant table; falls back per char if a phrase changes the length."""
    out = _t2s(text)
    if len(out) != len(text):  # keep the char <-> strain mark alignment
        out = "".join(c if len(c := _t2s(ch)) == 1 else ch for ch in text)
    return normalize_variants(out)


def clean_title(title: str) -> str:
    """Simplified title without bracketed notes or extra spaces."""
    return _SPACE_RE.sub(" ", _TITLE_NOTE_RE.sub("", to_simplified(title))).strip()


def _is_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def clean_poems(
    source: RawSource, progress: Callable[[int], None] | None = None
) -> tuple[list[CorpusPoem], CleanReport]:
    """Apply every rule in order; return the kept poems (source order) and the counts."""
    report = CleanReport(raw=len(source.poems), flagged_listed=len(source.flagged))
    seen: set[str] = set()
    kept: list[CorpusPoem] = []
    variant_hits = 0
    for i, raw in enumerate(source.poems):
        if progress and i % 1000 == 999:
            progress(1000)
        poem = _clean_one(raw, source, report, seen)
        if poem is not None:
            kept.append(poem)
    if progress:
        progress(len(source.poems) % 1000)
    report.kept = len(kept)
    report.flagged_in_main = sum(1 for p in source.poems if p.source_id in source.flagged)

    chars: Counter[str] = Counter(ch for p in kept for line in p.lines for ch in line)
    tokens = sum(chars.values())
    non_gb = {ch: n for ch, n in chars.items() if not _is_gb2312(ch)}
    # Variants are replaced already: count them by looking at the raw text of kept poems.
    by_id = {p.id: p for p in source.poems}
    for p in kept:
        variant_hits += sum(1 for ch in _t2s("".join(by_id[p.id].paragraphs)) if ch in VARIANTS)
    report.t2s = {
        "converter": "opencc t2s",
        "variant_table_size": len(VARIANTS),
        "variant_chars_replaced": variant_hits,
        "tokens": tokens,
        "char_types": len(chars),
        "non_gb2312_tokens": sum(non_gb.values()),
        "non_gb2312_token_share": round(sum(non_gb.values()) / max(tokens, 1), 5),
        "non_gb2312_types": len(non_gb),
        "top_non_gb2312": "".join(sorted(non_gb, key=lambda c: (-non_gb[c], c))[:60]),
    }
    return kept, report


def _clean_one(raw: RawPoem, source: RawSource, report: CleanReport, seen: set[str]) -> CorpusPoem | None:
    if raw.source_id in source.flagged:
        report.removed["flagged"] += 1
        report.flag_types.update({t.split("->")[0] for t in source.flagged[raw.source_id]} or {"(none)"})
        return None
    if is_empty(raw.paragraphs):
        report.removed["empty"] += 1
        return None
    text = "\n".join(raw.paragraphs)
    if has_placeholder(text):
        report.removed["missing_char"] += 1
        return None
    if has_note(text):
        report.removed["notes"] += 1
        return None
    raw_lines = split_lines(raw.paragraphs)
    if classify_form(raw_lines) is None:  # shape does not depend on t2s (it is length-preserving)
        report.removed["form"] += 1
        return None
    lines = split_lines([to_simplified("\n".join(raw_lines))])
    form = classify_form(lines)
    if form is None:
        report.removed["form"] += 1
        return None
    key = "".join(lines)
    if key in seen:
        report.removed["duplicate"] += 1
        return None
    seen.add(key)
    strains, status = align_strains(source.strains.get(raw.source_id), lines)
    report.strains[status] += 1
    return CorpusPoem(
        id=raw.id,
        dynasty=raw.dynasty,
        form=form,
        title=clean_title(raw.title),
        author=to_simplified(raw.author).strip(),
        lines=lines,
        strains=strains,
    )
