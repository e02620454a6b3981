"""The 宋词 of ``chinese-poetry@2.0.1`` as training data: `<out>/ci_{train,valid,test}.jsonl.gz`.

A 词 has no fixed line layout, so each poem keeps its own segmentation: ``lines`` are the segments
between punctuation marks and ``marks`` the mark after each (``，`` inside a sentence, ``。`` at its
end; ？ and ！ count as 。, 、；： as ，). The 词牌 (``cipai``) becomes the form token, so one model
learns 诗 and 词 and a later 词 composer can condition on the 词牌 exactly as 诗 condition on 七绝.

Poems are dropped, not repaired, when a segment holds a placeholder (□) or anything that is not a
Han character once editorial notes are gone: the package's 词 have many copying errors already.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poetcore.text.chars import is_han
from poetcore.data.clean import PLACEHOLDERS
from poetcore.data.corpus import CI_SPLIT_PREFIX, write_split
from poetcore.data.split import SPLITS, split_of
from poetcore.text.normalize import normalize_line
from poetcore.data.package import iter_package_json

__all__ = ["CI_FILE_RE", "CiCleanReport", "clean_ci", "read_ci", "write_ci"]

CI_FILE_RE = re.compile(r"songci/ci\.song\.(\d+)\.json")

_NOTE_RE = re.compile(r"[（(〖【\[［{｛〔][^）)〗】\]］}｝〕]*[）)〗】\]］}｝〕]")
_PIECE_RE = re.compile(r"([^，。！？；：、,.!?;:]+)([，。！？；：、,.!?;:]?)")
_SENTENCE_END = frozenset("。！？.!?")


@dataclass
class CiCleanReport:
    raw: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)


def clean_ci(poem_id: str, cipai: Any, author: Any, paragraphs: Any) -> tuple[dict[str, Any] | None, str]:
    """One 词 as a training record, or None with the reason it was dropped."""
    name = normalize_line(str(cipai or "").split("·")[0])
    if not name:
        return None, "no_cipai"
    if not isinstance(paragraphs, list) or not paragraphs:
        return None, "empty"
    lines: list[str] = []
    marks: list[str] = []
    for para in paragraphs:
        text = _NOTE_RE.sub("", str(para)).replace(" ", "").replace("\u3000", "")
        for segment, mark in _PIECE_RE.findall(text):
            if any(ch in PLACEHOLDERS for ch in segment):
                return None, "placeholder"
            if not all(is_han(ch) for ch in segment):
                return None, "non_han"
            line = normalize_line(segment)
            if len(line) != len(segment):
                return None, "non_han"
            lines.append(line)
            marks.append("。" if mark in _SENTENCE_END else "，")
    if len(lines) < 2:
        return None, "too_short"
    marks[-1] = "。"
    record = {"id": poem_id, "cipai": name, "author": normalize_line(str(author or "")) or "佚名",
              "lines": lines, "marks": "".join(marks)}
    return record, ""


def read_ci(source: Path) -> tuple[list[dict[str, Any]], CiCleanReport]:
    """Every usable 宋词 of the package (tarball or folder), ids ``ci-<file*1000+index>``."""
    report = CiCleanReport()
    out: list[dict[str, Any]] = []
    for name, data in iter_package_json(source, lambda n: bool(CI_FILE_RE.fullmatch(n))):
        match = CI_FILE_RE.fullmatch(name)
        assert match is not None
        file_no = int(match.group(1))
        for i, entry in enumerate(data if isinstance(data, list) else []):
            report.raw += 1
            record, why = clean_ci(f"ci-{file_no * 1000 + i}", entry.get("rhythmic"), entry.get("author"),
                                   entry.get("paragraphs"))
            if record is None:
                report.dropped[why] += 1
            else:
                out.append(record)
    seen: set[tuple[str, ...]] = set()
    unique = []
    for r in sorted(out, key=lambda r: r["id"]):
        key = tuple(r["lines"])
        if key in seen:
            report.dropped["duplicate"] += 1
            continue
        seen.add(key)
        unique.append(r)
    report.kept = len(unique)
    return unique, report


def write_ci(out: Path, records: list[dict[str, Any]]) -> dict[str, int]:
    """Write the three 词 splits by the same id hash as the 诗; return poems per split."""
    by_split: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    for r in records:
        by_split[split_of(r["id"])].append(r)
    return {s: write_split(out, CI_SPLIT_PREFIX + s, iter(rs)) for s, rs in by_split.items()}
