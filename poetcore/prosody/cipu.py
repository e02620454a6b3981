"""词谱 derived from the corpus: per 词牌, its main line-length shapes and each position's tone.

Method (``derive``), over the prepared 宋词 (``ci_*.jsonl.gz``):

1. Group the 词 of one 词牌 by shape: the tuple of segment lengths with their sentence marks. A
   shape with at least ``MIN_SHAPE_POEMS`` poems and ``MIN_SHAPE_SHARE`` of the 词牌's poems is a
   main shape; the most common is 正体, the others 又一体.
2. For each position, vote the tone of the characters written there (平水韵 table; polyphonic or
   unknown characters do not vote). Agreement = the majority's share of the votes. The chart
   marks 平 or 仄 where agreement >= ``DECIDED`` (and at least ``MIN_VOTES`` votes), else 中; the
   ratio stays in the data.
3. Rhyme positions: two segment ends rhyme together when in at least ``RHYME_SHARE`` of the poems
   their characters share a 词林正韵 部 (or a 平水韵 group); the positions linked that way form rhyme
   sets (one for most 词牌; several where the 词牌 changes rhyme, 换韵/叶: 菩萨蛮 has four). Each set
   is 平韵, 仄韵 or 入声韵 by the tone its characters take in the shared 部.
4. A 词牌 with fewer than ``MIN_SHAPE_POEMS`` poems in every shape gets no chart: it is listed with
   its poem count and ``reliable: false``, never guessed.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from poetcore.paths import asset_path
from poetcore.prosody.cilin import CilinTable
from poetcore.prosody.forms import FormTemplate, FormVariant, RhymeSet
from poetcore.prosody.rhymes import RhymeTable, Tone

__all__ = ["CIPU_PATH", "DECIDED", "CiChart", "CiShape", "ci_form", "derive_cipu", "load_cipu", "rhyme_classes",
           "save_cipu", "shape_name"]

CIPU_PATH = asset_path("prosody", "cipu.json")
MIN_SHAPE_POEMS = 8
MIN_SHAPE_SHARE = 0.1
DECIDED = 0.8
MIN_VOTES = 5
RHYME_SHARE = 0.6
TOP_CIPAI = 50
NOT_A_CIPAI = frozenset({"失调名"})
"""The package's label for 词 whose 词牌 was lost: not a form, so no chart."""


@dataclass
class CiShape:
    lengths: list[int]
    marks: str
    poems: int
    chart: list[str]  # per segment, e.g. "中仄中平平仄仄"
    agreement: list[list[float]]  # per segment, per position
    rhymes: list[int]  # segment indices that end in a rhyme
    rhyme_tone: str  # 平 / 仄 / 入 (of the first rhyme set)
    rhyme_sets: list[list[int]] = field(default_factory=list)  # positions that rhyme together (换韵: several)
    rhyme_set_tones: list[str] = field(default_factory=list)

    @property
    def decided_share(self) -> float:
        marks = "".join(self.chart)
        return sum(m != "中" for m in marks) / max(1, len(marks))


@dataclass
class CiChart:
    cipai: str
    poems: int
    reliable: bool
    shapes: list[CiShape] = field(default_factory=list)  # 正体 first


def shape_name(k: int) -> str:
    return "正体" if k == 0 else f"又一体（{k}）"


def ci_form(chart: CiChart, k: int = 0) -> FormTemplate:
    """One shape of a 词牌 as a `FormTemplate`: the same data the 诗 checker and the constrained
    decoder read (per-line patterns and lengths, breaks, rhyme sets in 平/仄/入), without the 近体诗
    rules (粘对, 孤平, 三平尾 do not bind a 词)."""
    if not 0 <= k < len(chart.shapes):
        raise ValueError(f"{chart.cipai} has {len(chart.shapes)} charted shape(s), not {k + 1}")
    shape = chart.shapes[k]
    sets = shape.rhyme_sets or ([shape.rhymes] if shape.rhymes else [])
    tones = shape.rhyme_set_tones or [shape.rhyme_tone] * len(sets)
    rhyme_sets = tuple(RhymeSet(tuple(group), tone) for group, tone in zip(sets, tones, strict=True))
    variant = FormVariant(shape_name(k), tuple(shape.chart), tuple(sorted(shape.rhymes)),
                          Tone.PING if tones and tones[0] == "平" else Tone.ZE, rhyme_sets, shape.marks)
    name = chart.cipai if k == 0 else f"{chart.cipai}·又一体{k}"
    return FormTemplate(name, (variant,), rules=frozenset())


def _tone_vote(ch: str, table: RhymeTable) -> str | None:
    tones = table.tones(ch)
    if len(tones) != 1:
        return None
    return "平" if Tone.PING in tones else "仄"


def _poem_bu(lines: list[str], marks: str, cilin: CilinTable) -> int | None:
    votes: Counter[int] = Counter()
    for line, mark in zip(lines, marks, strict=True):
        if mark == "。":
            votes.update(set(cilin.bu_of(line[-1]).values()))
    return votes.most_common(1)[0][0] if votes else None


def _shape_chart(poems: list[dict[str, Any]], table: RhymeTable, cilin: CilinTable) -> CiShape:
    lengths = [len(x) for x in poems[0]["lines"]]
    marks = poems[0]["marks"]
    votes = [[Counter() for _ in range(n)] for n in lengths]  # type: list[list[Counter[str]]]
    ends: list[Counter[str]] = [Counter() for _ in lengths]  # per segment: rhymes / not
    rhyme_tones: Counter[str] = Counter()
    for poem in poems:
        bu = _poem_bu(poem["lines"], poem["marks"], cilin)
        for si, line in enumerate(poem["lines"]):
            for pi, ch in enumerate(line):
                vote = _tone_vote(ch, table)
                if vote:
                    votes[si][pi][vote] += 1
            readings = cilin.bu_of(line[-1])
            hit = bu is not None and bu in readings.values()
            ends[si]["yes" if hit else "no"] += 1
            if hit and bu is not None:
                tones = {table.group(g).tone for g, b in readings.items() if b == bu}
                if len(tones) == 1:
                    rhyme_tones["平" if Tone.PING in tones else "入" if bu >= 15 else "仄"] += 1
    chart, agreement = [], []
    for segment in votes:
        marks_row, ratios = [], []
        for counter in segment:
            total = sum(counter.values())
            top, n = counter.most_common(1)[0] if counter else ("中", 0)
            ratio = n / total if total else 0.0
            ratios.append(round(ratio, 3))
            marks_row.append(top if total >= MIN_VOTES and ratio >= DECIDED else "中")
        chart.append("".join(marks_row))
        agreement.append(ratios)
    sets = _rhyme_sets(poems, table, cilin)
    rhymes = sorted(i for group in sets for i in group)
    set_tones = [_set_tone(poems, group, table, cilin) for group in sets]
    return CiShape(lengths, marks, len(poems), chart, agreement, rhymes, set_tones[0] if set_tones else "?",
                   sets, set_tones)


def rhyme_classes(ch: str, table: RhymeTable, cilin: CilinTable) -> frozenset[str]:
    """What a rhyme character can rhyme by: its 词林正韵 部, and its 平水韵 groups (the split groups'
    halves were still rhymed together by Song poets: 晏殊 rhymes 杯 台 回 来 徊)."""
    return frozenset({f"部{b}" for b in cilin.bu_of(ch).values()} | {f"韵{g}" for g in table.groups(ch)})


def _rhyme_sets(poems: list[dict[str, Any]], table: RhymeTable, cilin: CilinTable) -> list[list[int]]:
    n = len(poems[0]["lines"])
    ends = [[rhyme_classes(p["lines"][i][-1], table, cilin) for i in range(n)] for p in poems]
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    linked: set[int] = set()
    for i in range(n):
        for j in range(i + 1, n):
            together = sum(bool(e[i] & e[j]) for e in ends)
            if together >= RHYME_SHARE * len(poems):
                parent[root(j)] = root(i)
                linked.update((i, j))
    groups: dict[int, list[int]] = defaultdict(list)
    for i in sorted(linked):
        groups[root(i)].append(i)
    return sorted(groups.values())


def _set_tone(poems: list[dict[str, Any]], group: list[int], table: RhymeTable, cilin: CilinTable) -> str:
    tones: Counter[str] = Counter()
    for poem in poems:
        for i in group:
            ch = poem["lines"][i][-1]
            for gid, bu in cilin.bu_of(ch).items():
                tone = table.group(gid).tone
                tones["入" if bu >= 15 else "平" if tone is Tone.PING else "仄"] += 1
    return tones.most_common(1)[0][0] if tones else "?"


def derive_cipu(records: Iterable[dict[str, Any]], top: int = TOP_CIPAI, table: RhymeTable | None = None,
                cilin: CilinTable | None = None) -> list[CiChart]:
    """Charts for the ``top`` most common 词牌 of the given 词 records."""
    table = table or RhymeTable.default()
    cilin = cilin or CilinTable.default()
    by_cipai: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        if record["cipai"] not in NOT_A_CIPAI:
            by_cipai[record["cipai"]].append(record)
    charts = []
    for cipai, poems in sorted(by_cipai.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:top]:
        shapes: dict[tuple[tuple[int, ...], str], list[dict[str, Any]]] = defaultdict(list)
        for poem in poems:
            shapes[(tuple(len(x) for x in poem["lines"]), poem["marks"])].append(poem)
        main = [group for group in sorted(shapes.values(), key=len, reverse=True)
                if len(group) >= MIN_SHAPE_POEMS and len(group) >= MIN_SHAPE_SHARE * len(poems)]
        chart = CiChart(cipai, len(poems), bool(main), [_shape_chart(g, table, cilin) for g in main[:3]])
        charts.append(chart)
    return charts


def save_cipu(charts: list[CiChart], path: Path = CIPU_PATH) -> None:
    data = {"method": {"min_shape_poems": MIN_SHAPE_POEMS, "min_shape_share": MIN_SHAPE_SHARE, "decided": DECIDED,
                       "min_votes": MIN_VOTES, "rhyme_share": RHYME_SHARE},
            "charts": [asdict(c) for c in charts]}
    path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


@lru_cache(maxsize=1)
def load_cipu(path: Path = CIPU_PATH) -> dict[str, CiChart]:
    data = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for c in data["charts"]:
        shapes = [CiShape(**s) for s in c.pop("shapes")]
        out[c["cipai"]] = CiChart(**c, shapes=shapes)
    return out
