"""A standard 词谱 beside the corpus one: 龙榆生《唐宋词格律》 for the 20 most common 词牌, and the comparison.

``assets/prosody/standard_cipu.json`` holds, per 词牌, the book's 正体 (its 定格, or the named 格 that
has the corpus 正体's length where the book lists several) transcribed by hand: per segment a pattern
over 平/仄/中 (中 = the book's 可平可仄, or a position the transcriber was not sure of: the 词牌's
``uncertain`` says which), what ends the segment (韵, 句 or 逗), the rhyme sets with their tone, the
rhymes the book calls optional, and 平仄通叶 positions. It is independent of the corpus chart
(`poetcore.prosody.cipu`): nothing in it was derived from the 宋词 we ship.

``compare(shape, standard)`` checks the corpus 正体 against it in the running character sequence, so
editions that punctuate differently still line up:

* shape: same number of characters, same break positions (each break only one side has is listed);
* strict positions: every position both charts decide (平 or 仄) must agree; each disagreement is
  listed with the corpus agreement ratio; positions only one side decides are counted;
* rhymes: the same rhyme-ending positions, the same tones (入 is a 仄: a corpus 入声 set matches the
  book's 仄韵), the same 换韵 grouping.

A difference the data expects (``expected``: which breaks, positions or rhymes, and why) is still a
difference: ``poetcore cipai`` prints it with its reason, and the tests fail on any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from poetcore.paths import asset_path
from poetcore.prosody.cipu import CiChart, CiShape, load_cipu

__all__ = ["STANDARD_CIPU_PATH", "ChartComparison", "Expected", "PositionDiff", "StandardChart", "break_spans",
           "compare", "compare_all", "describe", "flag", "load_standard_cipu", "matching_shape", "standard_source"]

STANDARD_CIPU_PATH = asset_path("prosody", "standard_cipu.json")
ENDS = frozenset("韵句逗")
MARKS = frozenset("平仄中")
TONES = frozenset(("平", "仄", "入"))


@dataclass(frozen=True)
class Expected:
    """Differences from the corpus chart that the data names, each with its reason."""

    breaks_standard_only: frozenset[int] = frozenset()  # break after the N-th character (1-based count)
    breaks_corpus_only: frozenset[int] = frozenset()
    breaks_why: str = ""
    positions: dict[tuple[int, int], str] = field(default_factory=dict)  # (segment, position), 1-based, book's numbering
    rhymes_standard_only: frozenset[int] = frozenset()  # rhyme ending at the N-th character
    rhymes_corpus_only: frozenset[int] = frozenset()
    rhymes_why: str = ""


@dataclass(frozen=True)
class StandardChart:
    cipai: str
    ge: str  # 定格, or which of the book's 格
    checked_with: str  # the 词 the transcription was checked against (shape and rhymes)
    chart: tuple[str, ...]  # per segment, over 平/仄/中
    ends: str  # per segment: 韵 (rhyme), 句 (sentence), 逗 (pause inside a sentence)
    rhyme_sets: tuple[tuple[int, ...], ...]  # segment indices rhyming together (换韵: several)
    rhyme_set_tones: tuple[str, ...]  # 平 / 仄 / 入
    entering: bool  # the book prefers 入声 rhymes (宜用入声)
    optional_rhymes: tuple[int, ...]  # segments the book marks 句或韵
    xie: dict[int, str]  # segment -> the other tone of the same 部 (平仄通叶, 西江月)
    uncertain: str
    expected: Expected

    @property
    def lengths(self) -> list[int]:
        return [len(seg) for seg in self.chart]

    @property
    def rhymes(self) -> list[int]:
        return sorted(i for group in self.rhyme_sets for i in group)


def _expected(raw: dict[str, Any]) -> Expected:
    breaks, rhymes = raw.get("breaks", {}), raw.get("rhymes", {})
    return Expected(frozenset(breaks.get("standard_only", ())), frozenset(breaks.get("corpus_only", ())),
                    breaks.get("why", ""),
                    {(p["at"][0], p["at"][1]): p["why"] for p in raw.get("positions", ())},
                    frozenset(rhymes.get("standard_only", ())), frozenset(rhymes.get("corpus_only", ())),
                    rhymes.get("why", ""))


def _chart(cipai: str, raw: dict[str, Any]) -> StandardChart:
    chart = StandardChart(cipai, raw["ge"], raw["checked_with"], tuple(raw["chart"]), raw["ends"],
                          tuple(tuple(g) for g in raw["rhyme_sets"]), tuple(raw["rhyme_set_tones"]),
                          raw["entering"], tuple(raw["optional_rhymes"]), {int(k): v for k, v in raw["xie"].items()},
                          raw["uncertain"], _expected(raw.get("expected", {})))
    n = len(chart.chart)
    assert len(chart.ends) == n and set(chart.ends) <= ENDS, f"{cipai}: ends {chart.ends!r} for {n} segments"
    assert all(seg and set(seg) <= MARKS for seg in chart.chart), f"{cipai}: a pattern is not over 平/仄/中"
    assert chart.rhymes == [i for i, e in enumerate(chart.ends) if e == "韵"], f"{cipai}: rhyme sets vs ends"
    assert len(chart.rhyme_sets) == len(chart.rhyme_set_tones) and set(chart.rhyme_set_tones) <= TONES, cipai
    assert all(0 <= i < n and chart.ends[i] != "韵" for i in chart.optional_rhymes), f"{cipai}: optional rhymes"
    assert all(i in chart.rhymes and t in TONES for i, t in chart.xie.items()), f"{cipai}: 叶 outside a rhyme set"
    return chart


@lru_cache(maxsize=1)
def _data(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_standard_cipu(path: Path = STANDARD_CIPU_PATH) -> dict[str, StandardChart]:
    """The transcribed charts by 词牌 (package names: the corpus's 词牌 strings)."""
    return {cipai: _chart(cipai, raw) for cipai, raw in _data(path)["charts"].items()}


def standard_source(path: Path = STANDARD_CIPU_PATH) -> str:
    return str(_data(path)["source"])


@dataclass(frozen=True)
class PositionDiff:
    """A position both charts decide, in opposite tones."""

    index: int  # 0-based in the running character sequence
    corpus_at: tuple[int, int]  # (segment, position), 1-based, corpus numbering
    standard_at: tuple[int, int]  # the same, in the book's numbering
    corpus: str
    agreement: float  # the corpus vote's majority share at this position
    standard: str


@dataclass(frozen=True)
class ChartComparison:
    cipai: str
    corpus_lengths: tuple[int, ...]
    standard_lengths: tuple[int, ...]
    breaks_standard_only: tuple[int, ...]  # break after the N-th character, only in the book
    breaks_corpus_only: tuple[int, ...]
    both_decided: int
    disagreements: tuple[PositionDiff, ...]
    standard_only_decided: int  # the book decides, the corpus says 中
    corpus_only_decided: int
    rhymes_standard_only: tuple[int, ...]  # rhyme ending at the N-th character, only in the book
    rhymes_corpus_only: tuple[int, ...]
    optional_rhymed: tuple[int, ...]  # the book's 句或韵 positions the corpus rhymes
    tone_differences: tuple[str, ...]
    grouping_differences: tuple[str, ...]
    rhyme_count: int
    rhyme_tones: str  # the book's, e.g. "仄平仄平"
    corpus_rhyme_tones: str  # the corpus sets', e.g. "入"

    @property
    def same_length(self) -> bool:
        return sum(self.corpus_lengths) == sum(self.standard_lengths)

    @property
    def shape_agrees(self) -> bool:
        return self.same_length and not self.breaks_standard_only and not self.breaks_corpus_only

    @property
    def positions_agree(self) -> bool:
        return self.same_length and not self.disagreements

    @property
    def rhymes_agree(self) -> bool:
        return not (self.rhymes_standard_only or self.rhymes_corpus_only or self.tone_differences
                    or self.grouping_differences)

    @property
    def agrees(self) -> bool:
        return self.shape_agrees and self.positions_agree and self.rhymes_agree


def _ends(lengths: list[int] | tuple[int, ...]) -> list[int]:
    """Cumulative character counts: segment i ends after the ``_ends[i]``-th character."""
    out, total = [], 0
    for n in lengths:
        total += n
        out.append(total)
    return out


def _where(lengths: list[int], index: int) -> tuple[int, int]:
    for si, end in enumerate(_ends(lengths)):
        if index < end:
            return si + 1, index - (end - lengths[si]) + 1
    raise IndexError(index)


def _tone_fits(standard: str, corpus: str) -> bool:
    return standard == corpus or (standard == "仄" and corpus == "入")


def compare(shape: CiShape, standard: StandardChart) -> ChartComparison:
    """The corpus 正体 (``shape``) against the book's chart: shape, strict positions, rhymes."""
    c_len, s_len = list(shape.lengths), standard.lengths
    c_ends, s_ends = _ends(c_len), _ends(s_len)
    total = s_ends[-1]
    same = c_ends[-1] == total
    c_breaks, s_breaks = set(c_ends[:-1]), set(s_ends[:-1])

    both = s_only = c_only = 0
    diffs: list[PositionDiff] = []
    if same:  # positions line up only when both have the same characters
        c_marks, s_marks = "".join(shape.chart), "".join(standard.chart)
        ratios = [r for row in shape.agreement for r in row]
        for i, (c, s) in enumerate(zip(c_marks, s_marks, strict=True)):
            if c != "中" and s != "中":
                both += 1
                if c != s:
                    diffs.append(PositionDiff(i, _where(c_len, i), _where(s_len, i), c, ratios[i], s))
            elif s != "中":
                s_only += 1
            elif c != "中":
                c_only += 1

    # Rhymes, by the character each ends on.
    c_sets = shape.rhyme_sets or ([shape.rhymes] if shape.rhymes else [])
    c_tones = shape.rhyme_set_tones or [shape.rhyme_tone] * len(c_sets)
    c_set_of = {c_ends[i]: k for k, group in enumerate(c_sets) for i in group}
    s_set_of = {s_ends[i]: k for k, group in enumerate(standard.rhyme_sets) for i in group}
    optional = {s_ends[i] for i in standard.optional_rhymes}
    s_only_r = sorted(set(s_set_of) - set(c_set_of))
    c_only_r = sorted(set(c_set_of) - set(s_set_of) - optional)
    tone_diffs: list[str] = []
    for k, group in enumerate(standard.rhyme_sets):
        tone = standard.rhyme_set_tones[k]
        for i in group:
            at = s_ends[i]
            if at not in c_set_of:
                continue
            if i in standard.xie:  # 平仄通叶: the corpus set has the main tone; the line's last mark says
                last = shape.chart[c_ends.index(at)][-1]
                if last not in ("中", standard.xie[i]):
                    tone_diffs.append(f"第{at}字书作叶{standard.xie[i]}，语料谱作{last}")
                continue
            c_tone = c_tones[c_set_of[at]]
            if not _tone_fits(tone, c_tone):
                tone_diffs.append(f"第{at}字书作{tone}韵，语料作{c_tone}韵")
    grouping: list[str] = []
    shared = sorted(set(s_set_of) & set(c_set_of))
    for a_i, a in enumerate(shared):
        for b in shared[a_i + 1:]:
            in_book, in_corpus = s_set_of[a] == s_set_of[b], c_set_of[a] == c_set_of[b]
            if in_book != in_corpus:
                grouping.append(f"第{a}、{b}字" + ("书中同押一韵，语料分押" if in_book else "书中换韵，语料同押"))
    return ChartComparison(
        standard.cipai, tuple(c_len), tuple(s_len), tuple(sorted(s_breaks - c_breaks)),
        tuple(sorted(c_breaks - s_breaks)), both, tuple(diffs), s_only, c_only, tuple(s_only_r), tuple(c_only_r),
        tuple(sorted(optional & set(c_set_of))), tuple(tone_diffs), tuple(grouping), len(s_set_of),
        "".join(standard.rhyme_set_tones), "".join(c_tones))


def compare_all(charts: dict[str, CiChart] | None = None,
                standards: dict[str, StandardChart] | None = None) -> dict[str, ChartComparison]:
    """Each transcribed 词牌's corpus 正体 against the book, in the data's order."""
    charts = load_cipu() if charts is None else charts
    standards = load_standard_cipu() if standards is None else standards
    return {name: compare(charts[name].shapes[0], std) for name, std in standards.items()
            if name in charts and charts[name].shapes}


def matching_shape(chart: CiChart, standard: StandardChart) -> int | None:
    """The first 又一体 of the corpus chart that agrees with the book in full, if the 正体 does not."""
    for k, shape in enumerate(chart.shapes):
        if compare(shape, standard).agrees:
            return k if k else None
    return None


def break_spans(cmp: ChartComparison) -> list[tuple[int, int, tuple[int, ...], tuple[int, ...]]]:
    """Where the breaks differ: (first, last character, the book's lengths there, the corpus's), each span
    bounded by breaks both sides share."""
    if not cmp.same_length:
        return [(1, sum(cmp.standard_lengths), cmp.standard_lengths, cmp.corpus_lengths)]
    s_ends, c_ends = _ends(cmp.standard_lengths), _ends(cmp.corpus_lengths)
    common = [0, *sorted(set(s_ends) & set(c_ends))]
    spans = []
    for start, stop in pairwise(common):
        s_in = [e for e in s_ends if start < e <= stop]
        c_in = [e for e in c_ends if start < e <= stop]
        if s_in != c_in:
            spans.append((start + 1, stop, tuple(b - a for a, b in pairwise([start, *s_in])),
                          tuple(b - a for a, b in pairwise([start, *c_in]))))
    return spans


def describe(cmp: ChartComparison, standard: StandardChart) -> list[str]:
    """The comparison in words, one line per part (what ``poetcore cipai NAME`` prints)."""
    out = []
    total = sum(cmp.standard_lengths)
    if not cmp.same_length:
        out.append(f"句式：字数不同，书 {total} 字，语料 {sum(cmp.corpus_lengths)} 字；平仄不逐字对照")
    elif cmp.shape_agrees:
        out.append(f"句式：相同（{total} 字，{len(cmp.standard_lengths)} 段）")
    else:
        spans = "；".join(f"第 {a}–{b} 字书作 {'+'.join(map(str, s))}，语料作 {'+'.join(map(str, c))}"
                         for a, b, s, c in break_spans(cmp))
        out.append(f"句式：{total} 字相同，断句不同：{spans}")
    if cmp.same_length:
        counts = f"书定而语料作中 {cmp.standard_only_decided} 处，语料定而书作中 {cmp.corpus_only_decided} 处"
        if not cmp.disagreements:
            out.append(f"平仄：两谱都定声的 {cmp.both_decided} 处全合；{counts}")
        else:
            listed = "；".join(f"第{d.corpus_at[0]}行第{d.corpus_at[1]}字 语料{d.corpus}（一致率 {d.agreement:.2f}）"
                              f"书{d.standard}" for d in cmp.disagreements)
            out.append(f"平仄：两谱都定声的 {cmp.both_decided} 处有 {len(cmp.disagreements)} 处相反：{listed}；{counts}")
    tones = "、".join(f"{t}韵" for t in cmp.rhyme_tones) + ("（宜入声）" if standard.entering else "")
    if "入" in cmp.corpus_rhyme_tones and "入" not in cmp.rhyme_tones:
        tones += "，语料为入声韵"

    def at(n: int) -> str:  # the n-th character, and where it ends a corpus line
        row, pos = _where(list(cmp.corpus_lengths), n - 1)
        return f"第 {n} 字（语料第{row}行" + ("末）" if pos == cmp.corpus_lengths[row - 1] else f"第{pos}字）")

    if cmp.rhymes_agree:
        out.append(f"韵位：相同（{cmp.rhyme_count} 处，{tones}）")
    else:
        parts = [f"书有语料无：{'、'.join(map(at, cmp.rhymes_standard_only))}"] if cmp.rhymes_standard_only else []
        if cmp.rhymes_corpus_only:
            parts.append(f"语料有书无：{'、'.join(map(at, cmp.rhymes_corpus_only))}")
        out.append(f"韵位：不同（书 {cmp.rhyme_count} 处，{tones}）：" + "；".join(
            [*parts, *cmp.tone_differences, *cmp.grouping_differences]))
    if cmp.optional_rhymed:
        out.append(f"  书作“句或韵”（可叶可不叶）的{'、'.join(map(at, cmp.optional_rhymed))}，语料谱作韵")
    exp = standard.expected
    for why in (exp.breaks_why if not cmp.shape_agrees else "", *(
            exp.positions[d.standard_at] for d in cmp.disagreements if d.standard_at in exp.positions),
            exp.rhymes_why if not cmp.rhymes_agree else ""):
        if why:
            out.append(f"  说明：{why}")
    return out


def flag(cmp: ChartComparison) -> str:
    """A short agree/differ mark for the 词牌 list."""
    if cmp.agrees:
        return "相合"
    parts = [*(["句读"] if not cmp.shape_agrees else []),
             *([f"平仄{len(cmp.disagreements)}"] if cmp.disagreements else []),
             *(["韵位"] if not cmp.rhymes_agree else [])]
    return "有异（" + "、".join(parts) + "）"
