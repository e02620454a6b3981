"""格律 forms as data (五绝 七绝 五律 七律), plus the line rules the chart alone cannot express.

A form is a set of variants; a variant is one pattern string per line over 平 / 仄 / 中 (中 = either)
and the indices of the lines whose last character rhymes. Line lengths, 粘/对 and the rhyme scheme
are all read off the data, so 排律 (more lines) or a 词牌 (mixed line lengths, its own breaks and
rhyme sets, ``rules`` without 粘对) are added as new ``FormTemplate`` values without touching the
checker or the decoder; ``poetcore.prosody.cipu.ci_form`` builds one per charted 词牌 shape.

The four line types (五言 core; 七言 prefixes two characters of the opposite tone)::

    type  五言 chart   五言 data    七言 chart       七言 data
    A     仄仄平平仄   中仄平平仄   平平仄仄平平仄   中平中仄平平仄
    B     平平仄仄平   中平中仄平   仄仄平平仄仄平   中仄中平中仄平   (+ 孤平 rule)
    C     平平平仄仄   中平平仄仄   仄仄平平平仄仄   中仄中平平仄仄
    D     仄仄仄平平   中仄仄平平   平平仄仄仄平平   中平中仄仄平平

一三五不论, precisely: the 2nd, 4th and 6th characters and the last one never change. Of the 1st, 3rd
and 5th, only those marked 中 above are free. The leniency is *not* safe, so the chart keeps the
position fixed, where changing it would:

* make 三平尾 (D line, 3rd-from-last character 仄 -> 平: 仄仄平平平) or 三仄尾 (C line, 平 -> 仄:
  平平仄仄仄);
* make an A line a 拗句 (3rd-from-last 平 -> 仄: 仄仄仄平仄), which needs 拗救 in the next line;
  a plain chart check does not grant that, so the position is fixed;
* make 孤平 in a B line. Both free positions of the B core (1st and 3rd of 平平仄仄平) are marked 中,
  but not both may be 仄 at once. ``is_gu_ping`` enforces this. 仄平平仄平 (the 1st 仄, rescued by
  the 3rd 平) is the standard 自救 and is accepted; 平平平仄平 is accepted.

孤平 (defined for the B type only, core ``X平X仄平``; in 七言 the core is the last five characters,
so the 七言 1st character never matters): apart from the rhyme character, the core keeps at most
one 平. With the chart's fixed 2nd 平 and 4th 仄 that happens exactly when the core's 1st and 3rd
characters are both 仄 (五言 positions 1 and 3, 七言 positions 3 and 5): 仄平仄仄平.

三平尾 / 三仄尾: the last three characters all 平 / all 仄.

Two classical licences are accepted by the checker on top of the chart (rules ``te_ao`` and
``ao_jiu``; a decoder may ignore them and stay inside the strict chart, which is always legal):

* 特拗: a C line may read 平平仄平仄 instead of 平平平仄仄 (3rd and 4th of the core swapped, core's
  1st character then 平), e.g. 王之涣 "羌笛何须怨杨柳". ``ALTERNATE_LINES`` holds these as data.
* 拗救 (对句相救): an A line whose core 3rd and/or 4th character is 仄 (仄仄仄平仄 小拗, 仄仄平仄仄
  大拗) is excused when its couplet partner, a B line, puts 平 on its core 3rd character, e.g.
  杜甫 "映阶碧草自春色，隔叶黄鹂空好音". ``rescued_positions`` computes the excused positions.

Polyphonic characters (both tones) match either mark, and an unknown tone is never judged; rules
fire only when the tones make the violation certain.

Rhyme: the rhyme lines' last characters must share one 平声 group. 首句入韵 variants rhyme on
line 0 too. Tradition lets the first line borrow a 邻韵 (首句借邻韵); the checker allows and names
it, while decoding keeps every rhyme in one group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

from poetcore.errors import UnknownFormError
from poetcore.prosody.rhymes import Tone
from poetcore.text.chars import to_simplified

__all__ = [
    "ALTERNATE_LINES",
    "ANY",
    "COUPLETS",
    "DEFAULT_RULES",
    "FORMS",
    "RULE_AO_JIU",
    "RULE_GU_PING",
    "RULE_NIAN_DUI",
    "RULE_SAN_PING_WEI",
    "RULE_SAN_ZE_WEI",
    "RULE_TE_AO",
    "ZE_RHYME_FORMS",
    "FormTemplate",
    "FormVariant",
    "LineIssue",
    "RhymeSet",
    "allowed_tones",
    "couplet_for",
    "expected_relations",
    "get_form",
    "gu_ping_applies",
    "is_gu_ping",
    "is_san_ping_wei",
    "is_san_ze_wei",
    "line_patterns",
    "line_violations",
    "mark_allows",
    "rescued_positions",
    "rhyme_labels",
    "supported_forms_text",
    "supported_shapes_text",
]

ANY = "中"
"""Pattern mark for a position where either tone is allowed."""

PatternMark = str  # one of "平", "仄", "中"

RULE_GU_PING = "gu_ping"
RULE_SAN_PING_WEI = "san_ping_wei"
RULE_SAN_ZE_WEI = "san_ze_wei"
RULE_NIAN_DUI = "nian_dui"
RULE_TE_AO = "te_ao"
RULE_AO_JIU = "ao_jiu"
DEFAULT_RULES: frozenset[str] = frozenset(
    (RULE_GU_PING, RULE_SAN_PING_WEI, RULE_SAN_ZE_WEI, RULE_NIAN_DUI, RULE_TE_AO, RULE_AO_JIU)
)

ToneSet = frozenset[Tone]
_MARKS = frozenset((Tone.PING.value, Tone.ZE.value, ANY))

# -- line types (see module docstring) --------------------------------------------------------
A5, B5, C5, D5 = "中仄平平仄", "中平中仄平", "中平平仄仄", "中仄仄平平"
A7, B7, C7, D7 = "中平中仄平平仄", "中仄中平中仄平", "中仄中平平仄仄", "中平中仄仄平平"

ALTERNATE_LINES: dict[str, tuple[str, ...]] = {
    C5: ("平平仄平仄",),  # 特拗: core 平平仄平仄 for 平平平仄仄
    C7: ("中仄平平仄平仄",),
}
"""Accepted alternative readings of a chart line (rule ``te_ao``), keyed by the chart pattern."""


RHYME_TONES = frozenset(("平", "仄", "入"))


@dataclass(frozen=True)
class RhymeSet:
    """Lines whose last characters rhyme together, and the tone they rhyme in (平, 仄 or 入声).

    A 诗 has one set; a 词 that changes rhyme (换韵: 菩萨蛮, 清平乐) has several, and a set may hold
    a line whose chart mark is the other tone of the same 部 (平仄通叶: 西江月's 仄 lines).
    """

    lines: tuple[int, ...]
    tone: str = "平"

    def __post_init__(self) -> None:
        if self.tone not in RHYME_TONES or not self.lines:
            raise ValueError(f"rhyme set {self.lines!r}: tone must be one of 平/仄/入, got {self.tone!r}")


@dataclass(frozen=True)
class FormVariant:
    """One chart of a form: a pattern per line and the lines whose last character rhymes.

    ``breaks`` is the punctuation after each line (，or 。); empty means the 诗 default, a comma after
    the 1st, 3rd… line and a full stop after the 2nd, 4th…. ``rhyme_sets`` splits ``rhyme_lines`` where a 词 changes
    rhyme; empty means one set in ``rhyme_tone``.
    """

    name: str  # e.g. "仄起首句不入韵"
    lines: tuple[str, ...]  # per-line pattern over 平 / 仄 / 中
    rhyme_lines: tuple[int, ...]  # 0-based indices of lines whose last char rhymes
    rhyme_tone: Tone = Tone.PING  # 近体诗 rhymes on 平; a 仄韵 词牌 says ZE
    rhyme_sets: tuple[RhymeSet, ...] = ()
    breaks: str = ""
    echoes: tuple[tuple[int, int], ...] = ()  # (line, earlier line): the line repeats that line's end (叠句)

    def __post_init__(self) -> None:
        for line, source in self.echoes:
            if not (0 <= source < line < len(self.lines)) or len(self.lines[line]) > len(self.lines[source]):
                raise ValueError(f"variant {self.name!r}: echo {(line, source)} must repeat the end of an earlier line")
        if self.breaks and (len(self.breaks) != len(self.lines) or set(self.breaks) - {"，", "。"}):
            raise ValueError(f"variant {self.name!r}: breaks {self.breaks!r} need one ，or 。 per line")
        if self.rhyme_sets and sorted(i for s in self.rhyme_sets for i in s.lines) != sorted(self.rhyme_lines):
            raise ValueError(f"variant {self.name!r}: rhyme sets {self.rhyme_sets!r} must partition {self.rhyme_lines!r}")
        for i, pattern in enumerate(self.lines):
            bad = set(pattern) - _MARKS
            if bad or not pattern:
                raise ValueError(f"variant {self.name!r} line {i}: bad pattern {pattern!r} (use 平/仄/中)")
        for i in self.rhyme_lines:
            if not 0 <= i < len(self.lines):
                raise ValueError(f"variant {self.name!r}: rhyme line {i} outside 0..{len(self.lines) - 1}")

    @property
    def line_lengths(self) -> tuple[int, ...]:
        return tuple(len(p) for p in self.lines)

    @property
    def first_line_rhymes(self) -> bool:
        return 0 in self.rhyme_lines

    @property
    def punctuation(self) -> str:
        """The mark after each line."""
        return self.breaks or "".join("，" if i % 2 == 0 else "。" for i in range(len(self.lines)))

    @property
    def rhyme_groups(self) -> tuple[RhymeSet, ...]:
        """The rhyme sets, one for a 诗."""
        if self.rhyme_sets:
            return self.rhyme_sets
        return (RhymeSet(self.rhyme_lines, self.rhyme_tone.value),) if self.rhyme_lines else ()


@dataclass(frozen=True)
class FormTemplate:
    """A form: its variants share line count and line lengths; ``rules`` name the extra checks."""

    name: str
    variants: tuple[FormVariant, ...]  # the conventional variant first: it wins ties
    aliases: tuple[str, ...] = ()
    rules: frozenset[str] = field(default=DEFAULT_RULES)
    model_form: str = ""  # the form token the model is prompted with, when not the form's own name
    kind: str = "诗"  # 诗, or 词 for a 词牌 (`poetcore.prosody.cipu.ci_form`)

    @property
    def is_ci(self) -> bool:
        return self.kind == "词"

    @property
    def prompt_form(self) -> str:
        """What the model is told it writes: a couplet is written as the opening of its 绝句."""
        return self.model_form or self.name

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"form {self.name!r} has no variants")
        shapes = {v.line_lengths for v in self.variants}
        if len(shapes) != 1:
            raise ValueError(f"form {self.name!r}: variants disagree on line lengths {sorted(shapes)}")
        if len({v.punctuation for v in self.variants}) != 1:
            raise ValueError(f"form {self.name!r}: variants disagree on the breaks between lines")

    @property
    def n_lines(self) -> int:
        return len(self.variants[0].lines)

    @property
    def line_lengths(self) -> tuple[int, ...]:
        return self.variants[0].line_lengths

    @property
    def line_length(self) -> int:
        """The common line length; ValueError for a form with mixed lengths (a 词牌)."""
        lengths = set(self.line_lengths)
        if len(lengths) != 1:
            raise ValueError(f"form {self.name!r} has mixed line lengths {self.line_lengths}")
        return lengths.pop()

    def variant(self, name: str) -> FormVariant:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"form {self.name!r} has no variant {name!r}; have {[v.name for v in self.variants]}")


def _variants(lines_by_variant: dict[str, tuple[str, ...]]) -> tuple[FormVariant, ...]:
    """Even lines (0-based odd) always rhyme; line 0 too in the 首句入韵 variants."""
    out = []
    for vname, lines in lines_by_variant.items():
        first = vname.endswith("首句入韵")
        rhyme = tuple(i for i in range(len(lines)) if i % 2 == 1 or (i == 0 and first))
        out.append(FormVariant(vname, lines, rhyme))
    return tuple(out)


# Data: each variant is a sequence of line types. 律诗 repeat the 绝句 couplets under 粘.
# 五言 conventionally does not rhyme on line 0 and 七言 does, so those variants come first.
_WU: dict[str, tuple[str, ...]] = {
    "仄起首句不入韵": (A5, B5, C5, D5),
    "平起首句不入韵": (C5, D5, A5, B5),
    "仄起首句入韵": (D5, B5, C5, D5),
    "平起首句入韵": (B5, D5, A5, B5),
}
_QI: dict[str, tuple[str, ...]] = {
    "仄起首句入韵": (B7, D7, A7, B7),
    "平起首句入韵": (D7, B7, C7, D7),
    "仄起首句不入韵": (C7, D7, A7, B7),
    "平起首句不入韵": (A7, B7, C7, D7),
}


def _lv(jue: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    # The second quatrain of a 律诗 starts again from the non-rhyming first line of the chart.
    out = {}
    for vname, lines in jue.items():
        base = jue[vname.removesuffix("首句入韵").removesuffix("首句不入韵") + "首句不入韵"]
        out[vname] = lines + base
    return out


FORMS: dict[str, FormTemplate] = {
    "五绝": FormTemplate("五绝", _variants(_WU), ("五言绝句", "五言绝", "wujue")),
    "七绝": FormTemplate("七绝", _variants(_QI), ("七言绝句", "七言绝", "qijue")),
    "五律": FormTemplate("五律", _variants(_lv(_WU)), ("五言律诗", "五言律", "wulv", "wulü")),
    "七律": FormTemplate("七律", _variants(_lv(_QI)), ("七言律诗", "七言律", "qilv", "qilü")),
}


def _loose(pattern: str) -> str:
    """A 古绝 line: only the even positions and the last character keep their tone (二四分明, the
    foot), everything else is free: 仄韵 绝句 are 古体, bound by no 孤平 or 三尾 rule."""
    return "".join(m if i % 2 == 1 or i == len(pattern) - 1 else ANY for i, m in enumerate(pattern))


def _ze_rhyme(lines_by_variant: dict[str, tuple[str, ...]]) -> tuple[FormVariant, ...]:
    """仄韵 绝句: lines 1 and 3 (and line 0 in 首句入韵) end in a 仄 rhyme, line 2 in 平, the lines
    still alternate 对 and 粘 at the 2nd character (入律的古绝: 春晓, 江雪)."""
    out = []
    for vname, lines in lines_by_variant.items():
        first = vname.endswith("首句入韵")
        rhyme = tuple(i for i in range(len(lines)) if i % 2 == 1 or (i == 0 and first))
        out.append(FormVariant(vname, tuple(_loose(x) for x in lines), rhyme, Tone.ZE))
    return tuple(out)


ZE_RHYME_FORMS: dict[str, FormTemplate] = {
    "五绝仄韵": FormTemplate("五绝仄韵", _ze_rhyme({
        "平起首句不入韵": (B5, A5, D5, C5), "仄起首句不入韵": (D5, C5, B5, A5),
        "平起首句入韵": (C5, A5, D5, C5), "仄起首句入韵": (A5, C5, B5, A5)}),
        ("仄韵五绝", "五言仄韵绝句", "仄韵五言绝句"), rules=frozenset(), model_form="五绝"),
    "七绝仄韵": FormTemplate("七绝仄韵", _ze_rhyme({
        "仄起首句不入韵": (B7, A7, D7, C7), "平起首句不入韵": (D7, C7, B7, A7),
        "仄起首句入韵": (C7, A7, D7, C7), "平起首句入韵": (A7, C7, B7, A7)}),
        ("仄韵七绝", "七言仄韵绝句", "仄韵七言绝句"), rules=frozenset(), model_form="七绝"),
}
"""绝句 that rhyme in 仄 (上声, 去声 or 入声, one 平水韵 group), written or continued on purpose
(``/poem … 仄韵``, a user's 仄韵 lines in ``/xu``). Not in ``FORMS``: the 近体 checker's auto-detection
reads a 4-line poem as 律绝 first; `checker` names a 仄韵 one 古绝."""


def _couplet(jue: FormTemplate, name: str, aliases: tuple[str, ...]) -> FormTemplate:
    """The first couplet of a 绝句 as a form of its own (对句, /dui): its variants' first two lines,
    with the rhyme on line 1 (and line 0 where the variant rhymes there)."""
    variants = tuple(FormVariant(v.name, v.lines[:2], tuple(i for i in v.rhyme_lines if i < 2)) for v in jue.variants)
    return FormTemplate(name, variants, aliases, jue.rules, model_form=jue.name)


COUPLETS: dict[str, FormTemplate] = {
    "五言联": _couplet(FORMS["五绝"], "五言联", ("五言对句",)),
    "七言联": _couplet(FORMS["七绝"], "七言联", ("七言对句",)),
}
"""One couplet (出句 and 对句): what /dui asks for. Not in ``FORMS``: nobody asks for a poem of two lines."""


def couplet_for(line_length: int) -> FormTemplate:
    """The couplet form whose lines are ``line_length`` characters long (5 or 7)."""
    for form in COUPLETS.values():
        if form.line_length == line_length:
            return form
    raise UnknownFormError("couplet_length", f"对句只写五言或七言，不写 {line_length} 字句。",
                           f"A couplet line has 5 or 7 characters, not {line_length}.")


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for form in (*FORMS.values(), *ZE_RHYME_FORMS.values(), *COUPLETS.values()):
        for key in (form.name, *form.aliases):
            index[key.lower()] = form.name
    return index


def supported_forms_text() -> str:
    return "、".join(FORMS)


def supported_shapes_text() -> str:
    """e.g. "五绝（4句×5字）、七绝（4句×7字）…" for shape errors."""
    parts = []
    for form in FORMS.values():
        lengths = set(form.line_lengths)
        size = f"{lengths.pop()}字" if len(lengths) == 1 else "/".join(map(str, form.line_lengths)) + "字"
        parts.append(f"{form.name}（{form.n_lines}句×{size}）")
    return "、".join(parts)


_FORMISH = re.compile(r"[绝律言古体诗]")
"""A name that means a 诗 form (五古, 七言排律): its refusal lists the 诗 forms, not 词牌."""


def get_form(name: str) -> FormTemplate:
    """Form by name or alias ("七律", "七言律诗", "qilv"), or a charted 词牌 ("浣溪沙", "忆江南",
    "浣溪沙·又一体1"); UnknownFormError lists the supported forms, or the nearest 词牌."""
    key = to_simplified(name.strip()).lower()
    found = _alias_index().get(key)
    if found is None:
        from poetcore.prosody.cipu import ci_template, nearest_cipai  # the 词谱 build on this module

        ci = ci_template(to_simplified(name.strip()))
        if ci is not None:
            return ci
        near = nearest_cipai(to_simplified(name.strip()))
        if near and not _FORMISH.search(key):
            raise UnknownFormError(
                "unknown_cipai",
                f"没有“{name}”这个词牌的词谱。相近的有：{'、'.join(near)}。",
                f"No chart for the 词牌 {name!r}. Nearest: {', '.join(near)}.",
            )
        raise UnknownFormError(
            "unknown_form",
            f"不支持的体裁“{name}”。支持的体裁：{supported_forms_text()}。",
            f"Unknown form {name!r}. Supported forms: {', '.join(FORMS)}.",
        )
    return FORMS.get(found) or ZE_RHYME_FORMS.get(found) or COUPLETS[found]


# -- line rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineIssue:
    """A rule broken inside one line; ``position`` is 0-based (None for whole-line rules)."""

    code: str  # "tone" | RULE_GU_PING | RULE_SAN_PING_WEI | RULE_SAN_ZE_WEI
    position: int | None = None
    expected: Tone | None = None


def mark_allows(mark: PatternMark, tones: ToneSet) -> bool:
    """A chart mark accepts these tones: 中 always; unknown (empty) tones are not judged."""
    return mark == ANY or not tones or Tone(mark) in tones


def _certainly(tones: ToneSet, tone: Tone) -> bool:
    return tones == frozenset((tone,))


def gu_ping_applies(pattern: str) -> bool:
    """True for B-type lines: the five-character core is X平X仄平 (平平仄仄平 / 仄仄平平仄仄平)."""
    return (
        len(pattern) >= 5 and pattern[-4] == Tone.PING and pattern[-2] == Tone.ZE and pattern[-1] == Tone.PING
    )


def is_gu_ping(tones: Sequence[ToneSet], pattern: str) -> bool:
    """孤平: in a B-type line, at most one character of the core besides the rhyme may be 平."""
    if not gu_ping_applies(pattern) or len(tones) != len(pattern):
        return False
    core = tones[-5:-1]
    maybe_ping = sum(1 for t in core if not t or Tone.PING in t)
    return maybe_ping <= 1


def is_san_ping_wei(tones: Sequence[ToneSet]) -> bool:
    """三平尾: the last three characters are all certainly 平."""
    return len(tones) >= 3 and all(_certainly(t, Tone.PING) for t in tones[-3:])


def is_san_ze_wei(tones: Sequence[ToneSet]) -> bool:
    """三仄尾: the last three characters are all certainly 仄."""
    return len(tones) >= 3 and all(_certainly(t, Tone.ZE) for t in tones[-3:])


def line_violations(
    tones: Sequence[ToneSet], pattern: str, rules: frozenset[str] = DEFAULT_RULES
) -> list[LineIssue]:
    """Everything wrong with one line: chart mismatches, then 孤平 / 三平尾 / 三仄尾."""
    if len(tones) != len(pattern):
        raise ValueError(f"line has {len(tones)} characters but pattern {pattern!r} has {len(pattern)}")
    issues = [
        LineIssue("tone", i, Tone(mark))
        for i, (mark, t) in enumerate(zip(pattern, tones, strict=True))
        if not mark_allows(mark, t)
    ]
    if RULE_GU_PING in rules and is_gu_ping(tones, pattern):
        issues.append(LineIssue(RULE_GU_PING))
    # 三平尾 / 三仄尾 are reported only where the chart did not already ask for that tail.
    if RULE_SAN_PING_WEI in rules and is_san_ping_wei(tones) and pattern[-3:] != "平平平":
        issues.append(LineIssue(RULE_SAN_PING_WEI))
    if RULE_SAN_ZE_WEI in rules and is_san_ze_wei(tones) and pattern[-3:] != "仄仄仄":
        issues.append(LineIssue(RULE_SAN_ZE_WEI))
    return issues


def line_patterns(pattern: str, rules: frozenset[str] = DEFAULT_RULES) -> tuple[str, ...]:
    """The chart pattern followed by the alternatives the rules accept for it (特拗)."""
    if RULE_TE_AO not in rules:
        return (pattern,)
    return (pattern, *ALTERNATE_LINES.get(pattern, ()))


def _is_a_type(pattern: str) -> bool:
    # A core: X仄平平仄 (仄仄平平仄 / 平平仄仄平平仄).
    return len(pattern) >= 5 and pattern[-4:] == "仄平平仄"


def rescued_positions(
    a_tones: Sequence[ToneSet], a_pattern: str, b_tones: Sequence[ToneSet], b_pattern: str
) -> frozenset[int]:
    """拗救: positions of an A line whose 仄 (core 3rd/4th char) the B partner line rescues.

    Empty unless ``a_pattern`` is an A line, ``b_pattern`` a B line and the B line's core 3rd
    character can be 平.
    """
    if not (_is_a_type(a_pattern) and gu_ping_applies(b_pattern)):
        return frozenset()
    if len(a_tones) != len(a_pattern) or len(b_tones) != len(b_pattern):
        return frozenset()
    rescue = b_tones[-3]
    if rescue and Tone.PING not in rescue:
        return frozenset()
    n = len(a_pattern)
    return frozenset(i for i in (n - 3, n - 2) if _certainly(a_tones[i], Tone.ZE))


_PING, _ZE = frozenset((Tone.PING,)), frozenset((Tone.ZE,))


@lru_cache(maxsize=65536)
def allowed_tones(
    pattern: str, prefix: tuple[ToneSet, ...], rules: frozenset[str] = DEFAULT_RULES
) -> frozenset[Tone]:
    """Tones the next character may take so that the line can still be finished without violations.

    ``prefix`` holds the tones of the characters already written (a polyphonic character may be
    passed as both tones). This is what a constrained decoder masks with: it folds the chart and
    the cross-position rules (孤平, 三平尾, 三仄尾) into one answer per position.
    """
    pos = len(prefix)
    if pos >= len(pattern):
        raise ValueError(f"prefix of {pos} characters already fills pattern {pattern!r}")
    allowed: set[Tone] = set()
    choices = [(_PING, _ZE) if m == ANY else ((_PING,) if m == Tone.PING else (_ZE,)) for m in pattern]
    for tone in (Tone.PING, Tone.ZE):
        if not mark_allows(pattern[pos], frozenset((tone,))):
            continue
        head = (*prefix, frozenset((tone,)))
        for rest in product(*[c for c in choices[pos + 1 :]]) if pos + 1 < len(pattern) else [()]:
            if not line_violations((*head, *rest), pattern, rules):
                allowed.add(tone)
                break
    return frozenset(allowed)


def expected_relations(variant: FormVariant) -> tuple[str | None, ...]:
    """For each adjacent pair (i, i+1): "粘" (same tone at the 2nd char) or "对" (opposite).

    Derived from the patterns' 2nd characters; None where either is 中 or the line is too short.
    """
    out: list[str | None] = []
    for a, b in zip(variant.lines, variant.lines[1:], strict=False):
        if len(a) < 2 or len(b) < 2 or ANY in (a[1], b[1]):
            out.append(None)
        else:
            out.append("粘" if a[1] == b[1] else "对")
    return tuple(out)


def rhyme_labels(variant: FormVariant) -> dict[int, str]:
    """The 词谱 label of each rhyme line, after 《钦定词谱》: the first rhyme 韵, the lines rhyming with
    it 叶, a later set's first line 换平韵 / 换仄韵 / 换入韵; a line whose chart mark is the other tone
    of its set says so (叶仄, 叶平: 平仄通叶, as in 西江月)."""
    out: dict[int, str] = {}
    for k, group in enumerate(variant.rhyme_groups):
        set_tone = "仄" if group.tone == "入" else group.tone
        for j, line in enumerate(sorted(group.lines)):
            mark = variant.lines[line][-1]
            if j == 0:
                out[line] = "韵" if k == 0 else f"换{group.tone}韵"
            elif mark != ANY and mark != set_tone:
                out[line] = f"叶{mark}"
            else:
                out[line] = "叶"
    return out
