"""Judge a poem against the 格律 forms: chart, 孤平, 三平尾/三仄尾, 粘/对 and 平水韵 rhyme.

``check(text)`` detects the shape (line count and lengths), scores every variant of every form with
that shape and keeps the one with the fewest violations (ties go to the conventional variant).
Line and position indices are 0-based everywhere except inside the Chinese/English messages.

Findings come in three levels, as a teacher reads a regulated poem (王力《诗词格律》, ch. 1 §§ 8-10):

- **犯律** (``violations``, level ``LEVEL_ERROR``): 孤平, 三平尾, a wrong tone at a key position
  (the 2nd/4th/6th character, or the line's last), 失粘, 失对, a rhyme that does not rhyme. ``ok``
  means none of these.
- **拗** (``tolerated``, level ``LEVEL_AO``): a wrong tone at the first character of a pair (the
  1st/3rd/5th, "一三五不论") that no rule rescues, and 三仄尾 (王力: 三仄尾 "不算大毛病", common in
  Tang poems: 王湾「潮平两岸阔」). Named, not failed.
- **拗救** (``notes``): licences the poem uses: the 特拗 pattern (本句自救, 平平仄平仄) and 对句相救
  (a 平 at the next line's 3rd-from-last character rescuing this line's 拗).

A 绝句 need not be 近体. Without a named form, a quatrain is read as a **古绝** (``style`` 古体) when

- it rhymes in 仄: lines 2 and 4 share no 平声 group but do share a 上/去/入声 group (or one 词林正韵 部
  of one of those tones). It is then judged as ``forms.ZE_RHYME_FORMS`` (春晓, 江雪); or
- it rhymes in 平 but is far from the 近体 chart: read couplet by couplet (each couplet against its
  best chart, so a 失粘 between the couplets, the 折腰体 of 王维's 渭城曲, costs nothing), it keeps
  ``GU_JUE_FAULTS`` (3) 犯律 other than rhyme, or 2 and a mark of 古体: a 三平尾 among them, or a
  character used twice (静夜思: 明 月 头; 听弹琴; 终南望余雪). Faults are counted by cause: the
  失粘/失对 of a line with a wrong 2nd/4th/6th character, the 孤平 of a line with a wrong tone and the
  三平尾 whose tail holds one are that tone's doing. So one mistyped character is one fault, and a
  律绝 with one slip stays a 律绝 and keeps its 犯律 (tested over every position of five 律绝).

A 古绝 is judged on what binds it, the rhyme: its rhyme lines share one 平水韵 group of their tone
(a reading of the same tone in the same 词林正韵 部 is accepted and named: 上去通押, 邻韵通押). Its
``violations`` (and ``ok``) are about the rhyme only; the 近体 findings go to ``reference`` (level
``参考``), and no replacement is suggested. A named form is checked as that form: ``check(text,
"五绝")`` judges 春晓 as a 律绝, ``check(text, "五绝仄韵")`` as a 仄韵 古绝.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from poetcore.errors import PoemShapeError
from poetcore.prosody.cilin import BU_NAMES, CilinTable
from poetcore.prosody.forms import (
    ANY,
    FORMS,
    RULE_AO_JIU,
    RULE_GU_PING,
    RULE_NIAN_DUI,
    RULE_SAN_PING_WEI,
    RULE_SAN_ZE_WEI,
    ZE_RHYME_FORMS,
    FormTemplate,
    FormVariant,
    LineIssue,
    couplet_for,
    expected_relations,
    get_form,
    line_patterns,
    line_violations,
    rescued_positions,
    supported_shapes_text,
)
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.text.chars import is_han, split_lines

__all__ = ["GU_JUE", "GU_JUE_FAULTS", "LEVEL_AO", "LEVEL_ERROR", "LEVEL_REFERENCE", "STYLE_GUTI", "STYLE_JINTI",
           "UNKNOWN_SHAPE", "CharMark", "CheckReport", "Violation", "check", "fit_lines", "zh_number"]

Mark = Literal["ok", "poly", "bad", "ao", "unknown"]

LEVEL_ERROR = "犯律"
LEVEL_AO = "拗"
LEVEL_REFERENCE = "参考"  # a 近体 finding on a 古体 poem: information, not a fault
STYLE_JINTI = "近体"
STYLE_GUTI = "古体"
GU_JUE = "古绝"
GU_JUE_FAULTS = 3
"""犯律 by cause (rhyme aside) a 平韵 quatrain keeps, read couplet by couplet, to be a 古绝 (see above)."""
CODE_TONE = "tone"
CODE_RHYME = "rhyme"
CODE_SHI_NIAN = "shi_nian"
CODE_SHI_DUI = "shi_dui"
CODE_CHONG_YUN = "chong_yun"
_RHYME_CODES = frozenset((CODE_RHYME, CODE_CHONG_YUN))
UNKNOWN_SHAPE = "unknown_shape"
"""The error code when no form has the text's shape (the caller may try a 词 next)."""
_ZE_SECTIONS = ("上声", "去声", "入声")

_ZH_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 21 -> 二十一 (enough for line and position numbers)."""
    if n < 10:
        return _ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + (_ZH_DIGITS[ones] if ones else "")


@dataclass(frozen=True)
class Violation:
    """One broken rule; ``line``/``position`` are 0-based, ``position`` None for whole-line rules."""

    code: str  # tone | rhyme | gu_ping | san_ping_wei | san_ze_wei | shi_nian | shi_dui
    line: int
    position: int | None
    message: str  # Simplified Chinese, e.g. "第三句第二字应平而仄（明）"
    message_en: str
    level: str = LEVEL_ERROR  # LEVEL_ERROR (犯律), LEVEL_AO (拗, tolerated) or LEVEL_REFERENCE (参考, 古体)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "line": self.line,
            "position": self.position,
            "message": self.message,
            "message_en": self.message_en,
        }


@dataclass(frozen=True)
class CharMark:
    """How one character fared: ``mark`` ok / poly (either tone fits) / bad (犯律) / ao (拗, tolerated) /
    unknown tone."""

    char: str
    expected: str  # 平 / 仄 / 中
    tones: str  # "平", "仄", "平仄" or "" when unknown
    mark: Mark

    def to_dict(self) -> dict[str, str]:
        return {"char": self.char, "expected": self.expected, "tones": self.tones, "mark": self.mark}


@dataclass
class CheckReport:
    """The verdict on a poem: form and variant chosen, rhyme group, violations, per-char marks.

    ``style`` says how it was read: 近体 (律绝, 律诗: every rule binds) or 古体 (a 古绝: only the rhyme
    binds, ``violations`` are rhyme faults and the 近体 findings are ``reference``)."""

    form: str  # the form read against: 五绝 … 七律, or 五绝仄韵 / 七绝仄韵
    variant: str
    lines: list[str]
    patterns: list[str]
    rhyme_group: str | None  # label users know, e.g. "东" ("筿" for 上声十七筿); None when no group fits
    rhyme_group_id: str | None  # e.g. "上平一东", "上声十七筿"
    violations: list[Violation] = field(default_factory=list)  # 犯律
    marks: list[list[CharMark]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # 拗救: licences used (特拗, 对句相救)
    tolerated: list[Violation] = field(default_factory=list)  # 拗: named, not failed
    repeats: list[str] = field(default_factory=list)  # characters used twice outside 叠字 (noted)
    style: str = STYLE_JINTI  # 近体, or 古体 for a 古绝
    rhyme_tone: str = "平"  # 平, or 仄 (上/去/入声) for a 仄韵 古绝
    reference: list[Violation] = field(default_factory=list)  # 参考: 近体 findings on a 古体 poem

    @property
    def ok(self) -> bool:
        """No 犯律: for a 古绝, the rhyme is right."""
        return not self.violations

    @property
    def form_label(self) -> str:
        """The name the poem is given: the form (五绝 …), or 古绝."""
        return GU_JUE if self.style == STYLE_GUTI else self.form

    @property
    def rhyme_name(self) -> str | None:
        """The rhyme as it is named: "阳" for a 平声 group, "上声筿" for a 仄 one (its 声 first)."""
        if self.rhyme_group is None:
            return None
        section = (self.rhyme_group_id or "")[:2]
        return section + self.rhyme_group if section in _ZE_SECTIONS else self.rhyme_group

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "form": self.form,
            "form_label": self.form_label,
            "style": self.style,
            "variant": self.variant,
            "lines": self.lines,
            "patterns": self.patterns,
            "rhyme_group": self.rhyme_group,
            "rhyme_group_id": self.rhyme_group_id,
            "rhyme_tone": self.rhyme_tone,
            "rhyme_name": self.rhyme_name,
            "violations": [v.to_dict() for v in self.violations],
            "tolerated": [v.to_dict() for v in self.tolerated],
            "reference": [v.to_dict() for v in self.reference],
            "rescues": self.notes,
            "repeats": self.repeats,
            "marks": [[m.to_dict() for m in line] for line in self.marks],
            "notes": self.notes,
        }


# -- shape ------------------------------------------------------------------------------------


def _shape_error(message_zh: str, message_en: str, code: str = "poem_shape") -> PoemShapeError:
    shapes = supported_shapes_text()
    return PoemShapeError(
        code,
        f"{message_zh}。支持的体裁：{shapes}。",
        f"{message_en}. Supported shapes: {', '.join(f'{f.name} ({f.n_lines}x{f.line_lengths[0]})' for f in FORMS.values())}.",
    )


def fit_lines(segments: Sequence[str], form: FormTemplate) -> list[str] | None:
    """Cut the segments into the form's lines, or None if they do not fit.

    Punctuation is optional, so a segment may hold several lines (a couplet, or the whole poem
    typed without breaks); it fits when every segment boundary falls on a line boundary.
    """
    text = "".join(segments)
    if len(text) != sum(form.line_lengths):
        return None
    cuts, pos = set(), 0
    for length in form.line_lengths:
        pos += length
        cuts.add(pos)
    pos = 0
    for seg in segments:
        pos += len(seg)
        if pos not in cuts:
            return None
    lines, pos = [], 0
    for length in form.line_lengths:
        lines.append(text[pos : pos + length])
        pos += length
    return lines


_NOTE_RE = re.compile(r"[（(〖【\[［][^）)〗】\]］]*[）)〗】\]］]")
"""Editorial notes pasted with a poem (``(藎篋 一作：畫篋)``, ``〖1〗``): not part of it."""


def _segments(text: str) -> list[str]:
    segments = split_lines(_NOTE_RE.sub("", text))
    if not segments:
        raise _shape_error("没有找到诗句：输入为空", "No poem found: the input is empty")
    for seg in segments:
        for ch in seg:
            if not is_han(ch):
                raise _shape_error(
                    f"含有非汉字字符“{ch}”（在“{seg}”中），请只输入汉字诗句，句间可用标点或换行分隔",
                    f"Non-Chinese character {ch!r} in {seg!r}; enter Chinese lines separated by punctuation or newlines",
                )
    return segments


# -- judging ----------------------------------------------------------------------------------


def _tone_text(tones: frozenset[Tone]) -> str:
    return "".join(t.value for t in (Tone.PING, Tone.ZE) if t in tones)


def _pick_rhyme_group(chars: Sequence[str], table: RhymeTable, anchor: str) -> str | None:
    """The 平声 group most rhyme characters share; ties go to a group of the anchor (line 2's)."""
    counts: dict[str, int] = {}
    for ch in chars:
        for gid in table.ping_groups(ch):
            counts[gid] = counts.get(gid, 0) + 1
    if not counts:
        return None
    anchor_groups = table.ping_groups(anchor)
    order = {gid: i for i, gid in enumerate(table.ping_group_ids())}
    return max(counts, key=lambda g: (counts[g], g in anchor_groups, -order[g]))


def _relation_broken(a: Sequence[frozenset[Tone]], b: Sequence[frozenset[Tone]], relation: str) -> bool:
    """粘 wants the 二四(六) skeletons equal, 对 opposite; majority of judged positions, ties by 2nd."""
    agree = disagree = 0
    first: bool | None = None
    for i in range(1, min(len(a), len(b)) - 1, 2):
        if len(a[i]) != 1 or len(b[i]) != 1:
            continue  # polyphonic or unknown: not judged
        same = a[i] == b[i]
        good = same if relation == "粘" else not same
        agree += good
        disagree += not good
        if first is None:
            first = good
    return disagree > agree or (disagree == agree and disagree > 0 and first is False)


def _choose_patterns(
    tones: Sequence[Sequence[frozenset[Tone]]], form: FormTemplate, variant: FormVariant, notes: list[str]
) -> tuple[list[str], list[list[LineIssue]]]:
    """Read each line against the chart or an accepted alternative (特拗), whichever fits best.

    Ties go to the chart itself; a chosen 特拗 is a licence, so it is noted rather than flagged.
    """
    patterns: list[str] = []
    issues_by_line: list[list[LineIssue]] = []
    for li, (pattern, tl) in enumerate(zip(variant.lines, tones, strict=True)):
        options = [
            (line_violations(tl, p, form.rules), k, p)
            for k, p in enumerate(line_patterns(pattern, form.rules))
        ]
        issues, k, chosen = min(options, key=lambda o: (len(o[0]), o[1]))
        if k > 0:
            notes.append(f"第{zh_number(li + 1)}句用特拗句式（{chosen}）")
        patterns.append(chosen)
        issues_by_line.append(issues)
    return patterns, issues_by_line


def _apply_ao_jiu(
    lines: Sequence[str],
    tones: Sequence[Sequence[frozenset[Tone]]],
    patterns: Sequence[str],
    issues_by_line: list[list[LineIssue]],
    notes: list[str],
) -> None:
    """拗救: a B line's core 3rd 平 excuses the 仄 of its A partner (the line before, same couplet).

    The excused tone issues are dropped from ``issues_by_line`` and the rescue is noted instead.
    """
    for li in range(0, len(lines) - 1, 2):
        excused = rescued_positions(tones[li], patterns[li], tones[li + 1], patterns[li + 1])
        hit = {i.position for i in issues_by_line[li] if i.code == "tone" and i.position in excused}
        if hit:
            issues_by_line[li] = [
                i for i in issues_by_line[li] if i.position not in hit or i.code != "tone"
            ]
            where = "、".join(f"第{zh_number(p + 1)}字" for p in sorted(p for p in hit if p is not None))
            rescue = len(lines[li + 1]) - 3
            notes.append(
                f"第{zh_number(li + 1)}句{where}拗，第{zh_number(li + 2)}句第{zh_number(rescue + 1)}字用平声相救（拗救）"
            )


def _issue_violation(li: int, line: str, issue: LineIssue, bad: set[tuple[int, int]]) -> Violation | None:
    """The Violation for one line-level issue (None for codes not reported), marking its chars in ``bad``."""
    sent = f"第{zh_number(li + 1)}句"
    if issue.code == "tone":
        assert issue.position is not None and issue.expected is not None
        pos, want = issue.position, issue.expected
        got = "仄" if want is Tone.PING else "平"
        ao = pos % 2 == 0 and pos < len(line) - 1  # 1st/3rd/5th character: the first of a pair
        bad.add((li, pos))
        return Violation(
            CODE_TONE,
            li,
            pos,
            f"{sent}第{zh_number(pos + 1)}字应{want.value}而{got}（{line[pos]}）" + ("，拗" if ao else ""),
            f"line {li + 1}, char {pos + 1} ({line[pos]}) should be {want.value} but is {got}"
            + (" (拗, tolerated)" if ao else ""),
            LEVEL_AO if ao else LEVEL_ERROR,
        )
    if issue.code == RULE_GU_PING:
        rescue = len(line) - 3  # the core's 3rd char: the 平 that would save the line
        bad.add((li, rescue))
        return Violation(
            RULE_GU_PING,
            li,
            rescue,
            f"{sent}犯孤平（韵脚外只剩一个平声字，第{zh_number(rescue + 1)}字宜用平声相救）",
            f"line {li + 1} has 孤平 (lone 平): make char {rescue + 1} 平",
        )
    if issue.code in (RULE_SAN_PING_WEI, RULE_SAN_ZE_WEI):
        name = "三平尾" if issue.code == RULE_SAN_PING_WEI else "三仄尾"
        bad.update((li, p) for p in range(len(line) - 3, len(line)))
        if issue.code == RULE_SAN_ZE_WEI:
            return Violation(issue.code, li, len(line) - 3, f"{sent}三仄尾（拗，可容）",
                             f"line {li + 1} ends in 三仄尾 (拗, tolerated)", LEVEL_AO)
        return Violation(issue.code, li, len(line) - 3, f"{sent}{name}", f"line {li + 1} ends in {name}")
    return None


def _line_violations(
    lines: Sequence[str], issues_by_line: Sequence[Sequence[LineIssue]], bad: set[tuple[int, int]]
) -> list[Violation]:
    """Tone, 孤平 and 三平尾/三仄尾 violations, line by line in issue order."""
    violations: list[Violation] = []
    for li, (line, issues) in enumerate(zip(lines, issues_by_line, strict=True)):
        for issue in issues:
            violation = _issue_violation(li, line, issue, bad)
            if violation is not None:
                violations.append(violation)
    return violations


def _rhyme_violations(
    lines: Sequence[str], variant: FormVariant, table: RhymeTable, bad: set[tuple[int, int]],
    notes: list[str] | None = None,
) -> tuple[str | None, str | None, list[Violation]]:
    """Pick the rhyme group, then flag rhyme chars outside it: (group id, its label, violations).

    Characters of unknown tone are skipped: their rhyme cannot be judged. The first line may
    borrow a neighbouring group (首句借邻韵, 孤雁出群: 王力《诗词格律》 ch. 1 § 4), i.e. a 平声 group
    of the same 词林正韵 部; that is noted, not flagged. The same rhyme character twice is 重韵.
    """
    rhyme_chars = [lines[i][-1] for i in variant.rhyme_lines]
    anchor_line = next((i for i in variant.rhyme_lines if i > 0), variant.rhyme_lines[0])
    gid = _pick_rhyme_group(rhyme_chars, table, lines[anchor_line][-1])
    label = table.group_label(gid) if gid else None
    violations: list[Violation] = []
    for li in variant.rhyme_lines:
        ch = lines[li][-1]
        if not table.tones(ch):
            continue  # unknown character: cannot judge its rhyme
        if gid is not None and gid in table.groups(ch):
            continue
        if li == 0 and gid is not None and notes is not None and _neighbour(ch, gid, table):
            near = "、".join(table.group_label(g) for g in sorted(table.ping_groups(ch)))
            notes.append(f"首句借邻韵（孤雁出群）：“{ch}”属{near}韵，与{label}韵同在词林正韵一部")
            continue
        pos = len(lines[li]) - 1
        bad.add((li, pos))
        where = "、".join(table.group_label(g) for g in sorted(table.groups(ch))) or "未知"
        sent = f"第{zh_number(li + 1)}句"
        if gid is None:
            zh = f"{sent}韵脚“{ch}”不是平声韵字（属{where}韵），近体诗须押平声韵"
            en = f"line {li + 1}: rhyme char {ch} is not in any 平声 group"
        else:
            zh = f"{sent}韵脚不押{label}韵（“{ch}”属{where}韵）"
            en = f"line {li + 1}: rhyme char {ch} is not in the {label} group"
        violations.append(Violation(CODE_RHYME, li, pos, zh, en))
    violations += _chong_yun(lines, variant.rhyme_lines, bad)
    return gid, label, violations


def _chong_yun(lines: Sequence[str], rhyme_lines: Iterable[int], bad: set[tuple[int, int]]) -> list[Violation]:
    """重韵: a rhyme character used again at a later rhyme line (marked in ``bad``)."""
    out: list[Violation] = []
    seen: dict[str, int] = {}
    for li in rhyme_lines:
        ch = lines[li][-1]
        if ch in seen:
            bad.add((li, len(lines[li]) - 1))
            out.append(Violation(
                CODE_CHONG_YUN, li, len(lines[li]) - 1,
                f"第{zh_number(li + 1)}句韵脚“{ch}”与第{zh_number(seen[ch] + 1)}句重韵",
                f"line {li + 1} repeats the rhyme {ch} of line {seen[ch] + 1} (重韵)"))
        seen.setdefault(ch, li)
    return out


def _neighbour(ch: str, gid: str, table: RhymeTable) -> bool:
    """Whether ``ch`` has a 平声 reading in a group of the same 词林正韵 部 as ``gid`` (邻韵)."""
    cilin = CilinTable.default()
    return any(cilin.bu(ch, g) in cilin.bu_options(gid) for g in table.ping_groups(ch))


def _repeats(lines: Sequence[str]) -> list[str]:
    """Characters written twice or more, 叠字 (the same character twice in a row) aside."""
    where: dict[str, list[int]] = {}
    for li, line in enumerate(lines):
        for pos, ch in enumerate(line):
            if (pos > 0 and line[pos - 1] == ch) or (pos + 1 < len(line) and line[pos + 1] == ch):
                continue
            where.setdefault(ch, []).append(li)
    return [f"“{ch}”字重出（第{'、'.join(zh_number(i + 1) for i in lis)}句）" for ch, lis in where.items() if len(lis) > 1]


def _nian_dui_violations(tones: Sequence[Sequence[frozenset[Tone]]], variant: FormVariant) -> list[Violation]:
    """失粘/失对 between neighbouring lines, reported on the later line's 2nd char."""
    violations: list[Violation] = []
    for i, relation in enumerate(expected_relations(variant)):
        if relation is None or not _relation_broken(tones[i], tones[i + 1], relation):
            continue
        code, name = (CODE_SHI_NIAN, "失粘") if relation == "粘" else (CODE_SHI_DUI, "失对")
        violations.append(
            Violation(
                code,
                i + 1,
                1,
                f"第{zh_number(i + 2)}句{name}（与第{zh_number(i + 1)}句）",
                f"line {i + 2} breaks the {'粘 (nian)' if relation == '粘' else '对 (dui)'} with line {i + 1}",
            )
        )
    return violations


def _char_marks(
    lines: Sequence[str],
    patterns: Sequence[str],
    tones: Sequence[Sequence[frozenset[Tone]]],
    bad: set[tuple[int, int]],
    ao: set[tuple[int, int]] | None = None,
) -> list[list[CharMark]]:
    """Per-char marks: bad beats ao (tolerated), which beats unknown, which beats poly (only where
    the chart is not 中)."""
    marks = []
    for li, (line, pattern, tl) in enumerate(zip(lines, patterns, tones, strict=True)):
        row = []
        for pos, (ch, expected, t) in enumerate(zip(line, pattern, tl, strict=True)):
            if (li, pos) in bad:
                mark: Mark = "bad"
            elif ao and (li, pos) in ao:
                mark = "ao"
            elif not t:
                mark = "unknown"
            elif len(t) > 1 and expected != ANY:
                mark = "poly"
            else:
                mark = "ok"
            row.append(CharMark(ch, expected, _tone_text(t), mark))
        marks.append(row)
    return marks


def _judge(lines: list[str], form: FormTemplate, variant: FormVariant, table: RhymeTable) -> CheckReport:
    """Score ``lines`` against one variant: line rules, rhyme, 粘/对, then per-char marks."""
    if form.name in ZE_RHYME_FORMS:
        return _judge_ze(lines, form, variant, table)
    tones = [[table.tones(ch) for ch in line] for line in lines]
    notes: list[str] = []
    bad: set[tuple[int, int]] = set()  # (line, position) pairs any violation points at
    patterns, issues_by_line = _choose_patterns(tones, form, variant, notes)
    if RULE_AO_JIU in form.rules:
        _apply_ao_jiu(lines, tones, patterns, issues_by_line, notes)
    violations = _line_violations(lines, issues_by_line, bad)
    gid, label, rhyme_violations = _rhyme_violations(lines, variant, table, bad, notes)
    violations.extend(rhyme_violations)
    if RULE_NIAN_DUI in form.rules:
        violations.extend(_nian_dui_violations(tones, variant))
    ao: set[tuple[int, int]] = {
        (v.line, p) for v in violations if v.level == LEVEL_AO
        for p in ([v.position or 0] if v.code == CODE_TONE else range(len(lines[v.line]) - 3, len(lines[v.line])))}
    errors_at = {(v.line, v.position) for v in violations if v.level == LEVEL_ERROR and v.position is not None}
    marks = _char_marks(lines, patterns, tones, bad - (ao - errors_at), ao)
    violations.sort(key=lambda v: (v.line, -1 if v.position is None else v.position))
    errors = [v for v in violations if v.level == LEVEL_ERROR]
    tolerated = [v for v in violations if v.level == LEVEL_AO]
    return CheckReport(form.name, variant.name, lines, patterns, label, gid, errors, marks, notes, tolerated,
                       _repeats(lines))


# -- 古绝 ---------------------------------------------------------------------------------------


def _tone_groups(ch: str, tone: Tone, table: RhymeTable) -> frozenset[str]:
    """The 平水韵 groups of ``ch`` in one tone: 平声, or 仄 (上声, 去声 and 入声 together)."""
    ping = table.ping_groups(ch)
    return ping if tone is Tone.PING else table.groups(ch) - ping


def _group_name(gid: str, table: RhymeTable) -> str:
    """"阳" for a 平声 group, "上声筿" for a 仄 one: 古体 rhymes in every tone, so its 声 is named."""
    label = table.group_label(gid)
    return gid[:2] + label if gid[:2] in _ZE_SECTIONS else label


def _tong_ya(ch: str, gid: str, partners: Sequence[str], tone: Tone, table: RhymeTable) -> str | None:
    """The licence under which ``ch`` may rhyme with the group ``gid`` in 古体, or None: a reading of
    the same tone in the same 词林正韵 部 as the partners' (上去通押 across 上声/去声, else 邻韵通押).
    入声 部 (15-19) hold no 上/去 group, so 入 never mixes with them."""
    cilin = CilinTable.default()
    want = {cilin.bu(p, gid) for p in partners} or set(cilin.bu_options(gid))
    for g in sorted(_tone_groups(ch, tone, table), key=lambda g: (g[:2] != gid[:2], g)):  # same 声 first
        bu = cilin.bu(ch, g)
        if bu in want:
            kind = "上去通押" if {g[:2], gid[:2]} == {"上声", "去声"} else "邻韵通押"
            return (f"{kind}：“{ch}”属{_group_name(g, table)}韵，与{_group_name(gid, table)}韵同在词林正韵"
                    f"{BU_NAMES[bu - 1]}")
    return None


def _guti_rhyme(
    lines: Sequence[str], rhyme_lines: Sequence[int], tone: Tone, table: RhymeTable, bad: set[tuple[int, int]],
    optional: Sequence[int] = (),
) -> tuple[str | None, str | None, list[Violation], list[str]]:
    """A 古体 rhyme: (group id, label, violations, licences). The ``rhyme_lines`` share the group
    most of them have in ``tone`` (ties: line 2's); a line of ``optional`` (a 古绝's first line)
    rhymes if it can and is never a fault. Unknown characters are not judged; 重韵 is a fault."""
    required = [li for li in rhyme_lines if li not in optional]
    counts: dict[str, int] = {}
    for li in required:
        for g in _tone_groups(lines[li][-1], tone, table):
            counts[g] = counts.get(g, 0) + 1
    anchor = _tone_groups(lines[required[0]][-1], tone, table) if required else frozenset()
    order = {g: i for i, g in enumerate(table.group_ids())}
    gid = max(counts, key=lambda g: (counts[g], g in anchor, -order[g])) if counts else None
    partners = [lines[li][-1] for li in required if gid is not None and gid in table.groups(lines[li][-1])]
    violations: list[Violation] = []
    notes: list[str] = []
    rhymed: list[int] = []
    for li in sorted({*rhyme_lines, *optional}):
        ch, pos = lines[li][-1], len(lines[li]) - 1
        if not table.tones(ch):
            continue  # unknown character: cannot judge its rhyme
        if gid is not None and gid in table.groups(ch):
            rhymed.append(li)
            continue
        licence = _tong_ya(ch, gid, partners, tone, table) if gid is not None else None
        if licence is not None:
            rhymed.append(li)
            notes.append(f"第{zh_number(li + 1)}句{licence}")
            continue
        if li in optional:
            continue
        bad.add((li, pos))
        where = "、".join(_group_name(g, table) for g in sorted(table.groups(ch))) or "未知"
        sent = f"第{zh_number(li + 1)}句"
        if gid is None:
            zh = f"{sent}韵脚“{ch}”不是{tone.value}声韵字（属{where}韵）"
            en = f"line {li + 1}: rhyme char {ch} is not in any {tone.value} group"
        else:
            name = _group_name(gid, table)
            zh = f"{sent}韵脚不押{name}韵（“{ch}”属{where}韵）"
            en = f"line {li + 1}: rhyme char {ch} is not in the {name} group"
        violations.append(Violation(CODE_RHYME, li, pos, zh, en))
    violations += _chong_yun(lines, rhymed, bad)
    label = table.group_label(gid) if gid else None
    return gid, label, violations, notes


def _reference_positions(v: Violation, lines: Sequence[str]) -> list[tuple[int, int]]:
    """The characters a 近体 finding points at, for the △ marks of a 古绝."""
    if v.code in (RULE_SAN_PING_WEI, RULE_SAN_ZE_WEI):
        return [(v.line, p) for p in range(len(lines[v.line]) - 3, len(lines[v.line]))]
    return [(v.line, v.position)] if v.position is not None else []


def _guti_report(
    lines: list[str], form: str, variant: str, patterns: list[str], tone: Tone, table: RhymeTable,
    reference: list[Violation], rhyme_lines: Sequence[int], optional: Sequence[int] = (),
) -> CheckReport:
    """A 古绝's report: rhyme faults are its 犯律, the chart's findings ``reference`` (△ marks)."""
    tones = [[table.tones(ch) for ch in line] for line in lines]
    bad: set[tuple[int, int]] = set()
    gid, label, violations, notes = _guti_rhyme(lines, rhyme_lines, tone, table, bad, optional)
    ao = {p for v in reference for p in _reference_positions(v, lines)} - bad
    marks = _char_marks(lines, patterns, tones, bad, ao)
    return CheckReport(form, variant, lines, patterns, label, gid, violations, marks, notes, [], _repeats(lines),
                       style=STYLE_GUTI, rhyme_tone=tone.value, reference=reference)


def _judge_ze(lines: list[str], form: FormTemplate, variant: FormVariant, table: RhymeTable) -> CheckReport:
    """A 仄韵 绝句 against one variant of its loose chart: a tone off the chart is 参考, not 犯律
    (the poem is 古体); the rhyme lines must share one 上/去/入声 group (or 通押 in one 部)."""
    reference = []
    for li, (line, pattern) in enumerate(zip(lines, variant.lines, strict=True)):
        for issue in line_violations([table.tones(ch) for ch in line], pattern, form.rules):
            if issue.code != "tone" or issue.position is None or issue.expected is None:
                continue
            pos, want = issue.position, issue.expected
            got = "仄" if want is Tone.PING else "平"
            reference.append(Violation(
                CODE_TONE, li, pos, f"第{zh_number(li + 1)}句第{zh_number(pos + 1)}字按谱宜{want.value}而{got}（{line[pos]}）",
                f"line {li + 1}, char {pos + 1} ({line[pos]}): the chart has {want.value}, this is {got}",
                LEVEL_REFERENCE))
    return _guti_report(lines, form.name, variant.name, list(variant.lines), variant.rhyme_tone, table, reference,
                        variant.rhyme_lines)


def _rhymes_in_ze(lines: Sequence[str], table: RhymeTable) -> bool:
    """Lines 2 and 4 share no 平声 group but rhyme in 仄: one 上/去/入声 group, or one 部 of one tone.

    Where one of them can also be read 平, it takes the unrhymed 3rd line ending in 平 (as 仄韵 绝句
    do: 夜来风雨声, 孤舟蓑笠翁) to say so: a 律绝 whose 4th line ends in 思 (平/仄) is not made 仄韵
    by one slip on its 2nd line."""
    a, b = lines[1][-1], lines[3][-1]
    if table.ping_groups(a) & table.ping_groups(b):
        return False
    ze = frozenset((Tone.ZE,))
    if not (table.tones(a) == ze and table.tones(b) == ze) and table.tones(lines[2][-1]) == ze:
        return False
    za, zb = _tone_groups(a, Tone.ZE, table), _tone_groups(b, Tone.ZE, table)
    if za & zb:
        return True
    return any(_tong_ya(a, g, [b], Tone.ZE, table) for g in zb)


def _own_faults(faults: Sequence[Violation], lines: Sequence[str]) -> list[Violation]:
    """The faults that are not the echo of a wrong tone: a 失粘/失对 next to a line with a wrong 2nd/4th/6th
    character, a 孤平 in a line with a wrong tone, a 三平尾 whose tail holds one are that tone's doing."""
    tones = [v for v in faults if v.code == CODE_TONE and v.position is not None]
    key_lines = {v.line for v in tones if v.position is not None and v.position % 2 == 1}  # 二四六: what 粘/对 read
    own = []
    for v in faults:
        if v.code in (CODE_SHI_NIAN, CODE_SHI_DUI) and {v.line - 1, v.line} & key_lines:
            continue
        if v.code == RULE_GU_PING and any(t.line == v.line for t in tones):
            continue
        if v.code == RULE_SAN_PING_WEI and any(t.line == v.line and (t.position or 0) >= len(lines[v.line]) - 3
                                               for t in tones):
            continue
        own.append(v)
    return own


def _far_from_chart(lines: Sequence[str], table: RhymeTable) -> bool:
    """The 平韵 古绝 test (module docstring): the 近体 犯律 that remain when each couplet takes its best
    chart, counted by cause, and the marks of 古体 (三平尾, a character used twice)."""
    couplet = couplet_for(len(lines[0]))
    faults: list[Violation] = []
    for k in (0, 2):
        readings: list[list[Violation]] = [
            [replace(v, line=v.line + k) for v in _judge(list(lines[k:k + 2]), couplet, variant, table).violations
             if v.code not in _RHYME_CODES]
            for variant in couplet.variants]
        fewest: list[Violation] = min(readings, key=len)
        faults += fewest
    own = _own_faults(faults, lines)
    gu_mark = any(v.code == RULE_SAN_PING_WEI for v in own) or bool(_repeats(lines))
    return len(own) >= GU_JUE_FAULTS or (gu_mark and len(own) >= 2)


def _as_gu_jue(report: CheckReport, table: RhymeTable) -> CheckReport:
    """A 平韵 quatrain read as 古绝: its 律绝 findings become 参考, lines 2 and 4 must rhyme (line 1
    may)."""
    reference = [replace(v, level=LEVEL_REFERENCE)
                 for v in sorted(report.violations + report.tolerated,
                                 key=lambda v: (v.line, -1 if v.position is None else v.position))
                 if v.code not in _RHYME_CODES]
    return _guti_report(report.lines, report.form, report.variant, report.patterns, Tone.PING, table, reference,
                        (1, 3), optional=(0,))


def _read_quatrain(report: CheckReport, table: RhymeTable) -> CheckReport:
    """A quatrain read without a named form: a 律绝 (``report``), or a 古绝 (module docstring)."""
    if _rhymes_in_ze(report.lines, table):
        form = next(f for f in ZE_RHYME_FORMS.values() if f.line_lengths == tuple(map(len, report.lines)))
        best = _best(report.lines, [form], table)
        assert best is not None, "a quatrain fits the 仄韵 form of its line length"
        return best
    return _as_gu_jue(report, table) if _far_from_chart(report.lines, table) else report


def _best(segments: Sequence[str], forms: Sequence[FormTemplate], table: RhymeTable) -> CheckReport | None:
    """The best reading of ``segments`` over every variant of ``forms``, None when no form fits."""
    best: CheckReport | None = None
    best_key: tuple[int, int, int] | None = None
    for tmpl in forms:
        lines = fit_lines(segments, tmpl)
        if lines is None:
            continue
        for variant in tmpl.variants:
            report = _judge(lines, tmpl, variant, table)
            # Fewest violations; on a tie, trust line 0's 2nd character (how 平起/仄起 is named).
            line0 = table.tones(lines[0][1]) if len(lines[0]) > 1 else frozenset()
            mark = variant.lines[0][1] if len(variant.lines[0]) > 1 else ANY
            key = (len(report.violations), len(report.tolerated) + len(report.reference),
                   int(bool(line0) and mark != ANY and Tone(mark) not in line0))
            if best_key is None or key < best_key:
                best, best_key = report, key
    return best


def check(text: str, form: str | FormTemplate | None = None, table: RhymeTable | None = None) -> CheckReport:
    """Judge ``text``; ``form`` forces a form by name. PoemShapeError when no supported shape fits.

    Without a form a quatrain may be read as a 古绝 (module docstring); a named form is always
    checked as that form."""
    table = table or RhymeTable.default()
    candidates = (
        [form if isinstance(form, FormTemplate) else get_form(form)] if form else list(FORMS.values())
    )
    segments = _segments(text)
    best = _best(segments, candidates, table)
    if best is None:
        shape = "、".join(str(len(s)) for s in segments)
        n = len(segments)
        if form:
            tmpl = candidates[0]
            raise _shape_error(
                f"不是{tmpl.name}：{tmpl.name}须{tmpl.n_lines}句、每句{'/'.join(map(str, sorted(set(tmpl.line_lengths))))}字，"
                f"输入共{n}段，各段字数为{shape}",
                f"Not a {tmpl.name}: it needs {tmpl.n_lines} lines of {tmpl.line_lengths[0]} characters; "
                f"got {n} segments of {shape} characters",
            )
        raise _shape_error(
            f"无法识别体裁：输入共{n}段，各段字数为{shape}",
            f"Unsupported shape: {n} segments of {shape} characters",
            code=UNKNOWN_SHAPE,
        )
    if form is None and len(best.lines) == 4:
        return _read_quatrain(best, table)
    return best
