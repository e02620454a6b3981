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
4. 叠句: a segment that repeats the end of the segment before it (如梦令's 争渡，争渡; 忆秦娥's
   秦楼月) in at least ``ECHO_SHARE`` of the poems is an echo: the decoder copies it, the chart keeps it.
5. A 词牌 with fewer than ``MIN_SHAPE_POEMS`` poems in every shape gets no chart: it is listed with
   its poem count and ``reliable: false``, never guessed.

Names: the package files some 词牌 under two names at once (``望江南忆江南``); `CIPAI_NAMES` gives
each charted 词牌 the name users see and the aliases they type (忆江南, 木兰花 for 玉楼春), and
`find_cipai` resolves them, with the nearest names when nothing fits.
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

__all__ = ["CIPAI_NAMES", "CIPU_PATH", "DECIDED", "CiChart", "CiShape", "ci_form", "ci_template", "cipai_display",
           "derive_cipu", "find_cipai", "load_cipu", "nearest_cipai", "rhyme_classes", "save_cipu", "shape_name"]

CIPU_PATH = asset_path("prosody", "cipu.json")
MIN_SHAPE_POEMS = 8
MIN_SHAPE_SHARE = 0.1
DECIDED = 0.8
MIN_VOTES = 5
RHYME_SHARE = 0.6
ECHO_SHARE = 0.6
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
    echoes: list[list[int]] = field(default_factory=list)  # [segment, the segment whose end it repeats] (叠句)

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


CIPAI_NAMES: dict[str, tuple[str, ...]] = {
    "望江南忆江南": ("忆江南", "望江南", "梦江南", "江南好", "谢秋娘"),
    "醉落魄一斛珠": ("醉落魄", "一斛珠", "醉落拓", "怨春风"),
    "玉楼春": ("玉楼春", "木兰花", "玉楼春令"),
    "减字木兰花": ("减字木兰花", "减兰", "木兰花减字"),
    "浣溪沙": ("浣溪沙", "浣纱溪", "浣溪纱", "小庭花"),
    "蝶恋花": ("蝶恋花", "鹊踏枝", "凤栖梧"),
    "念奴娇": ("念奴娇", "大江东去", "酹江月", "百字令"),
    "水调歌头": ("水调歌头", "元会曲", "台城游"),
    "贺新郎": ("贺新郎", "金缕曲", "乳燕飞"),
    "菩萨蛮": ("菩萨蛮", "子夜歌", "重叠金"),
    "鹧鸪天": ("鹧鸪天", "思佳客", "于中好"),
    "虞美人": ("虞美人", "一江春水"),
    "临江仙": ("临江仙", "谢新恩"),
    "西江月": ("西江月", "白苹香", "步虚词"),
    "卜算子": ("卜算子", "百尺楼", "眉峰碧"),
    "清平乐": ("清平乐", "忆萝月", "醉东风"),
    "点绛唇": ("点绛唇", "点樱桃"),
    "渔家傲": ("渔家傲",),
    "长相思": ("长相思", "双红豆", "忆多娇"),
    "如梦令": ("如梦令", "忆仙姿", "宴桃源"),
    "踏莎行": ("踏莎行", "柳长春"),
    "生查子": ("生查子", "楚云深"),
    "浪淘沙": ("浪淘沙", "浪淘沙令", "卖花声"),
    "忆秦娥": ("忆秦娥", "秦楼月"),
    "诉衷情": ("诉衷情", "桃花水"),
    "采桑子": ("采桑子", "丑奴儿", "罗敷媚"),
    "江城子": ("江城子", "江神子"),
}
"""Charted 词牌 -> the name shown first, then the aliases users type (龙榆生《唐宋词格律》's 又名).
A 词牌 missing here is shown and typed under its own name."""


def cipai_display(cipai: str) -> str:
    """The name users see: 忆江南 for the package's 望江南忆江南."""
    return CIPAI_NAMES.get(cipai, (cipai,))[0]


def _name_index(charts: dict[str, CiChart]) -> dict[str, str]:
    index = {name: name for name in charts}
    for cipai, names in CIPAI_NAMES.items():
        if cipai in charts:
            for alias in names:
                index.setdefault(alias, cipai)
    return index


def find_cipai(name: str, charts: dict[str, CiChart] | None = None) -> tuple[CiChart, int] | None:
    """(chart, shape index) for a 词牌 name or alias, with an optional shape: ``浣溪沙``, ``词·浣溪沙``,
    ``浣溪沙·又一体1`` (or ``又一体``); None when no charted 词牌 has that name (or the shape does not exist)."""
    charts = charts if charts is not None else load_cipu()
    key = name.strip().removeprefix("词·").replace("又一體", "又一体")
    base, _, shape = key.partition("·")
    cipai = _name_index(charts).get(base)
    if cipai is None or not charts[cipai].shapes:
        return None
    k = 0
    if shape:
        digits = shape.removeprefix("又一体").strip("（）()") or "1"
        if not shape.startswith("又一体") or not digits.isdigit():
            return None
        k = int(digits)
    return (charts[cipai], k) if k < len(charts[cipai].shapes) else None


def nearest_cipai(name: str, charts: dict[str, CiChart] | None = None, n: int = 3) -> list[str]:
    """The charted 词牌 names closest to ``name`` (shared characters, then length), sharing at least two
    characters with it: for "did you mean" (浣沙溪 -> 浣溪沙; 秋思 is a topic, not a misspelt 长相思)."""
    charts = charts if charts is not None else load_cipu()
    names = {cipai_display(c) for c, chart in charts.items() if chart.shapes}
    want = set(name)
    scored = sorted(names, key=lambda x: (-len(want & set(x)) / max(len(set(x) | want), 1), abs(len(x) - len(name)), x))
    return [x for x in scored if len(want & set(x)) >= min(2, len(set(x)))][:n]


def ci_template(name: str) -> FormTemplate | None:
    """The `FormTemplate` of a charted 词牌 (name, alias, optional ``·又一体k``), or None."""
    found = find_cipai(name)
    return ci_form(*found) if found else None


def ci_form(chart: CiChart, k: int = 0) -> FormTemplate:
    """One shape of a 词牌 as a `FormTemplate`: the same data the 诗 checker and the constrained
    decoder read (per-line patterns and lengths, breaks, rhyme sets in 平/仄/入, 叠句), without the
    近体诗 rules (粘对, 孤平, 三平尾 do not bind a 词). Its ``model_form`` is the form token the
    model learnt the 词牌 under."""
    if not 0 <= k < len(chart.shapes):
        raise ValueError(f"{chart.cipai} has {len(chart.shapes)} charted shape(s), not {k + 1}")
    shape = chart.shapes[k]
    sets = shape.rhyme_sets or ([shape.rhymes] if shape.rhymes else [])
    tones = shape.rhyme_set_tones or [shape.rhyme_tone] * len(sets)
    rhyme_sets = tuple(RhymeSet(tuple(group), tone) for group, tone in zip(sets, tones, strict=True))
    variant = FormVariant(shape_name(k), tuple(shape.chart), tuple(sorted(shape.rhymes)),
                          Tone.PING if tones and tones[0] == "平" else Tone.ZE, rhyme_sets, shape.marks,
                          tuple((a, b) for a, b in shape.echoes))
    display = cipai_display(chart.cipai)
    name = display if k == 0 else f"{display}·又一体{k}"
    aliases = tuple(a for a in (chart.cipai, *CIPAI_NAMES.get(chart.cipai, ())) if a != display) if k == 0 else ()
    return FormTemplate(name, (variant,), aliases, rules=frozenset(), model_form=f"词·{chart.cipai}", kind="词")


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
                   sets, set_tones, _echoes(poems))


def _echoes(poems: list[dict[str, Any]]) -> list[list[int]]:
    """[segment, previous segment] where the segment repeats the previous one's end in most poems."""
    lines = poems[0]["lines"]
    out = []
    for i in range(1, len(lines)):
        n = len(lines[i])
        if n <= len(lines[i - 1]) and sum(p["lines"][i] == p["lines"][i - 1][-n:] for p in poems) >= ECHO_SHARE * len(poems):
            out.append([i, i - 1])
    return out


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
                       "min_votes": MIN_VOTES, "rhyme_share": RHYME_SHARE, "echo_share": ECHO_SHARE},
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
