"""Check a 词 against the corpus-derived 词谱 (`poetcore.prosody.cipu`): per-character marks and faults.

Levels as for 诗: a wrong tone where at least ``STRICT`` of the corpus's poets agree is 犯律
(``violations``); where fewer agree (the chart still says 平 or 仄, from ``cipu.DECIDED`` up) it is
拗, named in ``tolerated`` (词谱 mark such positions 可平可仄 or 宜平; 岳飞's 犹未雪 is one).

The 词牌 comes from the title (``水调歌头·明月几时有`` or a leading ``浣溪沙``) or, without one,
from the shape: the chart whose segment lengths (and, as a tie-break, sentence marks) equal the
text's. Each character is judged against its position's mark: 平 or 仄 where the corpus decided it,
中 (free) elsewhere; a polyphonic character fits either. At the chart's rhyme positions the
characters must share one 词林正韵 部 (the one most of them share), and be in the chart's tone.
The chart is read as form data (`cipu.ci_form`), and each rhyme line carries its 词谱 label
(`forms.rhyme_labels`: 韵, 叶, 换平韵, 叶仄 …), as 搜韵 and 《钦定词谱》 print them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from poetcore.errors import PoemShapeError
from poetcore.prosody.cilin import CilinTable
from poetcore.prosody.cipu import CiChart, CiShape, ci_form, load_cipu, rhyme_classes, shape_name
from poetcore.prosody.forms import rhyme_labels
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.text.normalize import normalize_line

__all__ = ["STRICT", "CiReport", "check_ci", "detect_cipai"]

STRICT = 0.97

_PIECE_RE = re.compile(r"([^，。！？；：、,.!?;:\s]+)([，。！？；：、,.!?;:]?)")
_END = frozenset("。！？.!?")


@dataclass
class CiReport:
    cipai: str
    shape: str  # 正体 / 又一体（k）
    lines: list[str]
    chart: list[str]
    rhyme_bu: int | None
    violations: list[dict[str, Any]] = field(default_factory=list)  # 犯律
    marks: list[list[str]] = field(default_factory=list)  # per char: ok / poly / bad / ao / free
    tolerated: list[dict[str, Any]] = field(default_factory=list)  # 拗
    rhyme_marks: list[str] = field(default_factory=list)  # per line: 韵 / 叶 / 换平韵 / 叶仄 … or ""

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cipai": self.cipai, "shape": self.shape, "lines": self.lines, "chart": self.chart,
                "rhyme_bu": self.rhyme_bu, "violations": self.violations, "tolerated": self.tolerated,
                "marks": self.marks, "rhyme_marks": self.rhyme_marks}


def _segments(text: str) -> tuple[str | None, list[str], str]:
    title = None
    head, sep, rest = text.partition("\n")
    if sep and not any(ch in head for ch in "，。！？；、"):
        title, text = head.strip(), rest
    lines, marks = [], []
    for segment, mark in _PIECE_RE.findall(text):
        line = normalize_line(segment)
        if line:
            lines.append(line)
            marks.append("。" if mark in _END else "，")
    if marks:
        marks[-1] = "。"
    return title, lines, "".join(marks)


def _breaks(lengths: list[int]) -> set[int]:
    out, at = set(), 0
    for n in lengths:
        at += n
        out.add(at)
    return out


def detect_cipai(text: str, charts: dict[str, CiChart] | None = None) -> tuple[CiChart, int] | None:
    """(chart, shape index) for a 词: by title when it names a charted 词牌, else by shape.

    Editions punctuate 词 differently (驾长车、踏破贺兰山缺 / 驾长车踏破，贺兰山缺), so a shape
    fits when the character count is the chart's and most of the text's breaks are the chart's:
    the shape with the most shared breaks wins (ties: more poems), if it shares at least 80%.
    """
    charts = charts or load_cipu()
    title, lines, _ = _segments(text)
    lengths = [len(x) for x in lines]
    mine = _breaks(lengths)
    candidates = list(charts.values())
    if title:
        name = normalize_line(title.split("·")[0])
        if name in charts:
            candidates = [charts[name]]
    best: tuple[float, CiChart, int] | None = None
    for chart in candidates:
        for k, shape in enumerate(chart.shapes):
            if sum(shape.lengths) != sum(lengths):
                continue
            theirs = _breaks(shape.lengths)
            overlap = len(mine & theirs) / len(mine | theirs)
            score = overlap + shape.poems / 1e7
            if overlap >= 0.8 and (best is None or score > best[0]):
                best = (score, chart, k)
    return (best[1], best[2]) if best else None


def _resegment(chars: str, lengths: list[int]) -> list[str]:
    out, at = [], 0
    for n in lengths:
        out.append(chars[at : at + n])
        at += n
    return out


def check_ci(text: str, table: RhymeTable | None = None, cilin: CilinTable | None = None) -> CiReport:
    table = table or RhymeTable.default()
    cilin = cilin or CilinTable.default()
    found = detect_cipai(text)
    _, lines, _ = _segments(text)
    if found is None:
        lengths = "、".join(str(len(x)) for x in lines)
        raise PoemShapeError("ci_shape", f"认不出词牌：各句字数为 {lengths}，与已统计的 50 个词牌的各体都不合。",
                             f"No 词牌 fits: segment lengths {lengths} match none of the 50 charted 词牌.")
    chart, k = found
    shape: CiShape = chart.shapes[k]
    variant = ci_form(chart, k).variants[0]  # the chart as form data: patterns, breaks, rhyme sets
    lines = _resegment("".join(lines), list(variant.line_lengths))  # the chart's segmentation
    labels = rhyme_labels(variant)
    report = CiReport(chart.cipai, shape_name(k), lines, list(variant.lines), None,
                      rhyme_marks=[labels.get(i, "") for i in range(len(lines))])
    # Each rhyme set (one, or several where the 词牌 changes rhyme) rhymes by its most shared class;
    # on a tie a 部 (the wider) beats a single 平水韵 group.
    set_class: dict[int, tuple[str, int | None]] = {}
    for group in (s.lines for s in variant.rhyme_groups):
        classes: dict[str, int] = {}
        for si in group:
            for c in sorted(rhyme_classes(lines[si][-1], table, cilin)):  # sorted: ties never follow hashing
                classes[c] = classes.get(c, 0) + 1
        if not classes:
            continue
        best = max(classes, key=lambda c: (classes[c], c.startswith("部")))
        bu = int(best[1:]) if best.startswith("部") else next(iter(cilin.bu_of(lines[group[0]][-1]).values()), None)
        for si in group:
            set_class[si] = (best, bu)
    first = min(variant.rhyme_groups[0].lines) if variant.rhyme_groups else None
    report.rhyme_bu = set_class[first][1] if first in set_class else None
    for si, (line, pattern) in enumerate(zip(lines, variant.lines, strict=True)):
        row = []
        for pi, (ch, want) in enumerate(zip(line, pattern, strict=True)):
            tones = table.tones(ch)
            if want == "中":
                row.append("free")
                continue
            need = Tone.PING if want == "平" else Tone.ZE
            if need in tones:
                row.append("poly" if len(tones) == 2 else "ok")
            elif not tones:
                row.append("poly")
            else:
                agree = shape.agreement[si][pi]
                strict = agree >= STRICT
                row.append("bad" if strict else "ao")
                (report.violations if strict else report.tolerated).append({
                    "code": "tone", "line": si, "position": pi, "level": "犯律" if strict else "拗",
                    "agreement": agree,
                    "message": f"第{si + 1}句第{pi + 1}字应{want}而{'仄' if want == '平' else '平'}（{ch}）"
                               + ("" if strict else f"，拗（{agree:.0%}的词作此处用{want}）"),
                    "message_en": f"line {si + 1}, char {pi + 1} ({ch}) should be {want}"
                                  + ("" if strict else f" (拗, tolerated: {agree:.0%} of poems agree)"),
                })
        report.marks.append(row)
        if si in set_class and set_class[si][0] not in rhyme_classes(line[-1], table, cilin):
            bu = set_class[si][1]
            report.marks[-1][-1] = "bad"
            report.violations.append({
                "code": "rhyme", "line": si, "position": len(line) - 1, "level": "犯律",
                "message": f"第{si + 1}句韵脚“{line[-1]}”不押韵（词林正韵第{bu}部）",
                "message_en": f"line {si + 1}: rhyme char {line[-1]} does not rhyme (词林正韵 部 {bu})",
            })
    return report
