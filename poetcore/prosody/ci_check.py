"""Check a 词 against the corpus-derived 词谱 (`poetcore.prosody.cipu`): per-character marks and faults.

Levels as for 诗: a wrong tone where at least ``STRICT`` of the corpus's poets agree is 犯律
(``violations``); where fewer agree (the chart still says 平 or 仄, from ``cipu.DECIDED`` up) it is
拗, named in ``tolerated`` (词谱 mark such positions 可平可仄 or 宜平; 岳飞's 犹未雪 is one).

The 词牌 comes from the title or, without one, from the shape: the chart whose segment lengths (and,
as a tie-break, sentence marks) equal the text's. A title is a first line without sentence marks
(``水调歌头·明月几时有``), a ``《…》``, or a 词牌 name (or alias: 忆江南, 木兰花) set off by a space,
half- or full-width (``水调歌头 明月几时有？…``). A titled 词 is checked as its 词牌 whatever its
breaks, if its character count is a charted shape's; a 词牌 we know but have no chart for (声声慢:
only the 50 most common are charted) or a text that fits none of its shapes is answered by name
(`PoemShapeError` ``ci_uncharted`` / ``ci_shape_mismatch``), never as an unknown shape. Each character is judged against its position's mark: 平 or 仄 where the corpus decided it,
中 (free) elsewhere; a polyphonic character fits either. At the chart's rhyme positions the
characters must share one 词林正韵 部 (the one most of them share), and be in the chart's tone.
The chart is read as form data (`cipu.ci_form`), and each rhyme line carries its 词谱 label
(`forms.rhyme_labels`: 韵, 叶, 换平韵, 叶仄 …), as 搜韵 and 《钦定词谱》 print them.

``check_text`` is what ``/check`` and ``poetcore check`` read: a 诗 (`checker.check`: 律绝, 律诗, 古绝)
or a 词, by the named form, the title or the shape; when nothing fits, the error says that 词 are
read too, and how to name one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from poetcore.errors import PoemShapeError
from poetcore.prosody.checker import UNKNOWN_SHAPE, CheckReport, check
from poetcore.prosody.cilin import CilinTable
from poetcore.prosody.cipu import (
    CiChart,
    CiShape,
    ci_form,
    cipai_display,
    find_cipai,
    load_cipu,
    rhyme_classes,
    shape_name,
)
from poetcore.prosody.forms import FormTemplate, get_form, rhyme_labels
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.text.normalize import normalize_line

__all__ = ["KNOWN_CIPAI", "STRICT", "CiReport", "check_ci", "check_text", "detect_cipai", "split_title"]

STRICT = 0.97

_UNCHARTED_NAMES = """
十六字令 渔歌子 忆王孙 调笑令 相见欢 乌夜啼 捣练子 潇湘神 天仙子 醉太平 醉花阴 武陵春 一剪梅 钗头凤
唐多令 眼儿媚 人月圆 桃源忆故人 破阵子 定风波 苏幕遮 少年游 夜游宫 风入松 御街行 千秋岁 青门引 更漏子
河传 酒泉子 荷叶杯 思帝乡 女冠子 巫山一段云 太常引 行香子 祝英台近 喜迁莺 摊破浣溪沙 山花子 昭君怨
惜分飞 清商怨 离亭燕 谢池春 燕归梁 一落索 留春令 忆少年 一丛花 剔银灯 雨霖铃 八声甘州 甘州
永遇乐 扬州慢 桂枝香 六州歌头 兰陵王 齐天乐 暗香 疏影 凤凰台上忆吹箫 声声慢 高阳台 望海潮 解连环
绮罗香 双双燕 六丑 琵琶仙 汉宫春 玉蝴蝶 八六子 石州慢 渡江云 瑞龙吟 夜半乐 戚氏 莺啼序 哨遍
霓裳中序第一 凄凉犯 淡黄柳 长亭怨慢 惜红衣 解语花 拜星月慢 西河 归朝欢 薄幸 倦寻芳 三姝媚 锁窗寒
宴清都 满路花 江城梅花引 金人捧露盘 风流子 玉漏迟 雨中花 雨中花慢 月下笛 法曲献仙音 一萼红 忆旧游
探春慢 夜合花 花犯 大酺 过秦楼 翠楼吟 疏帘淡月 秋霁 应天长 南浦 卜算子慢 苏武慢 瑞鹧鸪
"""
KNOWN_CIPAI: frozenset[str] = frozenset(_UNCHARTED_NAMES.split())
"""Well-known 词牌 with no chart here (the 词谱 charts only the 50 most common; names after 龙榆生
《唐宋词格律》): a 词 titled with one of them is named and told so, not misread as an unknown shape."""

_SENTENCE = "，。！？；、,.!?;"
_BOOK_TITLE_RE = re.compile(r"^《([^》]+)》\s*(.*)$", re.DOTALL)
_SPACED_RE = re.compile(r"^(\S+)\s+(\S.*)$", re.DOTALL)  # \s: half- and full-width spaces alike

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


def _cipai_name(title: str) -> str | None:
    """The 词牌 a title names (its part before ·: ``水调歌头·明月几时有``), as charted or listed, or None."""
    base = normalize_line(re.split(r"[·・•]", title, maxsplit=1)[0])
    if not base:
        return None
    found = find_cipai(base)
    if found is not None:
        return found[0].cipai
    return base if base in load_cipu() or base in KNOWN_CIPAI else None


def split_title(text: str) -> tuple[str | None, str]:
    """(title, body): a ``《…》``, a first line without sentence marks, or a 词牌 name set off by a
    space; (None, text) when there is none."""
    text = text.strip()
    if book := _BOOK_TITLE_RE.match(text):
        return book.group(1).strip(), book.group(2)
    head, sep, rest = text.partition("\n")
    if sep and not any(ch in head for ch in _SENTENCE):
        return head.strip(), rest
    spaced = _SPACED_RE.match(text)
    if spaced and not any(ch in spaced.group(1) for ch in _SENTENCE) and _cipai_name(spaced.group(1)):
        return spaced.group(1), spaced.group(2)
    return None, text


def _pieces(text: str) -> tuple[list[str], str]:
    lines, marks = [], []
    for segment, mark in _PIECE_RE.findall(text):
        line = normalize_line(segment)
        if line:
            lines.append(line)
            marks.append("。" if mark in _END else "，")
    if marks:
        marks[-1] = "。"
    return lines, "".join(marks)


def _segments(text: str) -> tuple[str | None, list[str], str]:
    title, body = split_title(text)
    lines, marks = _pieces(body)
    return title, lines, marks


def _breaks(lengths: list[int]) -> set[int]:
    out, at = set(), 0
    for n in lengths:
        at += n
        out.add(at)
    return out


def _best_shape(charts: list[CiChart], lengths: list[int], named: bool = False,
                only: int | None = None) -> tuple[CiChart, int] | None:
    """The shape with the most breaks in common with ``lengths`` (ties: more poems), among shapes of
    the same character count sharing at least 80% of the breaks; any share when the 词牌 was named."""
    mine = _breaks(lengths)
    best: tuple[float, CiChart, int] | None = None
    for chart in charts:
        for k, shape in enumerate(chart.shapes):
            if (only is not None and k != only) or sum(shape.lengths) != sum(lengths):
                continue
            theirs = _breaks(shape.lengths)
            overlap = len(mine & theirs) / len(mine | theirs)
            score = overlap + shape.poems / 1e7
            if (named or overlap >= 0.8) and (best is None or score > best[0]):
                best = (score, chart, k)
    return (best[1], best[2]) if best else None


def detect_cipai(text: str, charts: dict[str, CiChart] | None = None) -> tuple[CiChart, int] | None:
    """(chart, shape index) for a 词: by title when it names a charted 词牌, else by shape.

    Editions punctuate 词 differently (驾长车、踏破贺兰山缺 / 驾长车踏破，贺兰山缺), so a shape
    fits when the character count is the chart's and most of the text's breaks are the chart's:
    the shape with the most shared breaks wins (ties: more poems), if it shares at least 80% (any
    share, when the title names the 词牌).
    """
    charts = charts or load_cipu()
    title, lines, _ = _segments(text)
    lengths = [len(x) for x in lines]
    if title:
        named = find_cipai(normalize_line(re.split(r"[·・•]", title, maxsplit=1)[0]), charts)
        if named is not None:
            return _best_shape([named[0]], lengths, named=True)
    return _best_shape(list(charts.values()), lengths)


def _shapes_text(chart: CiChart) -> tuple[str, str]:
    zh = "、".join(f"{shape_name(k)}{len(s.lengths)}句{sum(s.lengths)}字" for k, s in enumerate(chart.shapes))
    en = ", ".join(f"{'main form' if k == 0 else f'variant {k}'} {len(s.lengths)} segments / {sum(s.lengths)} "
                   "characters" for k, s in enumerate(chart.shapes))
    return zh, en


def _named_chart(name: str, lines: list[str]) -> tuple[CiChart, int]:
    """(chart, shape) for a 词 of a named 词牌 (``浣溪沙``, ``忆江南``, ``水调歌头·又一体1``), or the
    PoemShapeError that says why there is none: no chart for that 词牌, or no shape of its fits."""
    base, _, shape = name.partition("·")
    found = find_cipai(name)
    cipai = _cipai_name(base)
    total = sum(map(len, lines))
    if found is None or cipai is None:
        shown = cipai_display(cipai) if cipai else base
        if cipai in load_cipu():
            why_zh = f"{shown}虽在最常见的 50 个词牌之中，但语料里它的各体都太零散，没有定谱"
            why_en = f"{shown} is among the 50 most common 词牌, but its 词 in the corpus vary too much to chart"
        else:
            why_zh = f"我们的词谱只收了最常见的 50 个词牌，其中没有{shown}"
            why_en = f"our 词谱 charts only the 50 most common 词牌, and {shown} is not among them"
        raise PoemShapeError(
            "ci_uncharted",
            f"读作词牌“{shown}”的词（{len(lines)}句{total}字）。{why_zh}，无法逐字检查平仄和韵。",
            f"This reads as a 词 to the 词牌 {shown} ({len(lines)} segments, {total} characters), but {why_en}, "
            "so it cannot be checked character by character.",
        )
    chart = found[0]
    fitted = _best_shape([chart], [len(x) for x in lines], named=True, only=found[1] if shape else None)
    if fitted is None:
        shown = cipai_display(chart.cipai)
        shapes_zh, shapes_en = _shapes_text(chart)
        main = sum(chart.shapes[0].lengths)
        diff_zh = f"，比正体{'多' if total > main else '少'} {abs(total - main)} 字" if total != main else ""
        diff_en = f", {abs(total - main)} {'more' if total > main else 'fewer'} than the main form" if total != main else ""
        raise PoemShapeError(
            "ci_shape_mismatch",
            f"不合{shown}的词谱：{shown}已统计的体式有 {shapes_zh}；这首共{len(lines)}句{total}字{diff_zh}。"
            "请核对字句是否有脱漏或衍文。",
            f"This does not fit the 词牌 {shown}: its charted forms are {shapes_en}; this text has {len(lines)} "
            f"segments and {total} characters{diff_en}. Check for missing or extra characters.",
        )
    return fitted


def _resegment(chars: str, lengths: list[int]) -> list[str]:
    out, at = [], 0
    for n in lengths:
        out.append(chars[at : at + n])
        at += n
    return out


def check_ci(text: str, table: RhymeTable | None = None, cilin: CilinTable | None = None,
             cipai: str | None = None) -> CiReport:
    """Judge a 词 against its chart: the 词牌 named by ``cipai`` (name, alias, ``·又一体k``), else by
    the title, else by the shape. PoemShapeError (``ci_shape``, ``ci_uncharted``, ``ci_shape_mismatch``)
    when there is no chart to read it against."""
    table = table or RhymeTable.default()
    cilin = cilin or CilinTable.default()
    title, lines, _ = _segments(text)
    name = cipai or (_cipai_name(title) if title else None)  # a title's ·首句 is not a shape
    if name is not None:
        found: tuple[CiChart, int] | None = _named_chart(name, lines)
    else:
        found = _best_shape(list(load_cipu().values()), [len(x) for x in lines])
        if found is None and title:  # an unknown title may be the first segment typed without a mark
            lines = _pieces(text)[0]
            found = _best_shape(list(load_cipu().values()), [len(x) for x in lines])
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


def _ci_hint(error: PoemShapeError, title: str | None) -> PoemShapeError:
    """The 诗 shape error, saying that 词 were tried too and how to name one."""
    unknown_zh = f"“{title}”不是已知的词牌名，" if title else ""
    unknown_en = f"{title!r} is not a 词牌 we know, and " if title else ""
    return PoemShapeError(
        error.code,
        f"{error.message_zh}也不是已统计的 50 个词牌之一（{unknown_zh}各体字数都不合）；"
        "查词请在前面写上词牌名，如：水调歌头 明月几时有？把酒问青天。……",
        f"{error.message_en} {unknown_en}Nor is it any form of the 50 charted 词牌; to check a 词, put its "
        "词牌 first, e.g. 水调歌头 明月几时有？把酒问青天。…",
    )


def check_text(text: str, form: str | FormTemplate | None = None) -> CheckReport | CiReport:
    """What ``/check`` and ``poetcore check`` read: a named form (a 诗 form, or a 词牌: 词 then), a
    title naming a 词牌, else a 诗 by its shape (`checker.check`, which may name a 古绝), else a 词 by
    its shape. A titled 诗 (``《静夜思》…``, or 刘禹锡's 浪淘沙, a 七绝 under a 词牌 title: a 绝句 only)
    is read without its title when the whole does not fit. PoemShapeError when nothing fits: for a titled 词,
    the 词 error (no chart, or no shape of the 词牌 fits); else the 诗 error, which then says that
    词 are read too."""
    if form is not None:
        template = form if isinstance(form, FormTemplate) else get_form(form)
        return check_ci(text, cipai=template.name) if template.is_ci else check(text, template)
    title, body = split_title(text)
    if title is not None and _cipai_name(title):
        try:
            return check_ci(text)
        except PoemShapeError as ci_error:
            try:
                poem = check(body)
            except PoemShapeError:
                raise ci_error from None
            if len(poem.lines) != 4:  # only a 绝句 is sung under a 词牌 title (浪淘沙, 杨柳枝)
                raise ci_error from None
            return poem
    try:
        return check(text)
    except PoemShapeError as error:
        if title is not None:
            try:
                return check(body)
            except PoemShapeError:
                pass
        try:
            return check_ci(text)
        except PoemShapeError:
            if error.code != UNKNOWN_SHAPE:
                raise error from None
            raise _ci_hint(error, title) from None
