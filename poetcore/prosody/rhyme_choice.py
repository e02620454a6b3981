"""What a user's rhyme choice means for a form: ``韵=东`` (a group), ``韵=鸟`` (a character), ``部=7``.

Torch-free, so the bots' parser and the composer read a choice the same way. A 诗 rhymes in one
平水韵 group: a 平声 one, or for a 绝句 a 仄声 one, which turns the request into a 仄韵 绝句
(`forms.ZE_RHYME_FORMS`). A 词 rhymes in a 词林正韵 部; a character or a 平水韵 group names its 部.
"""

from __future__ import annotations

import re

from poetcore.errors import PoetcoreInputError
from poetcore.prosody.cilin import BU_NAMES, CilinTable
from poetcore.prosody.forms import ZE_RHYME_FORMS, FormTemplate
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.text.chars import is_han, to_simplified

__all__ = ["BU_PREFIX", "parse_bu", "resolve_rhyme", "ze_form_of"]

BU_PREFIX = "部"
"""A 词 rhyme choice is written ``部<k>`` (k = 1..19), the decoder's class prefix."""

_NUMERALS = {name.removeprefix("第").removesuffix("部"): k for k, name in enumerate(BU_NAMES, start=1)}
_BU_RE = re.compile(r"^(?:词林正韵)?(?:第)?([0-9]{1,2}|[一二三四五六七八九十]{1,3})(?:部)?$")


def parse_bu(text: str) -> int | None:
    """``7``, ``部7``, ``第七部``, ``七`` -> 7; None when the text names no 部 (1..19)."""
    match = _BU_RE.match(text.strip().removeprefix(BU_PREFIX))
    if not match:
        return None
    raw = match.group(1)
    bu = int(raw) if raw.isdigit() else _NUMERALS.get(raw)
    return bu if bu is not None and 1 <= bu <= 19 else None


def ze_form_of(form: FormTemplate) -> FormTemplate | None:
    """The 仄韵 twin of a 绝句 (五绝 -> 五绝仄韵); None for forms that do not rhyme in 仄."""
    return ZE_RHYME_FORMS.get(f"{form.name}仄韵")


def _ci_rhyme(text: str, form: FormTemplate, table: RhymeTable) -> str:
    first = form.variants[0].rhyme_groups[0].tone if form.variants[0].rhyme_groups else "平"
    bu = parse_bu(text)
    if bu is None:
        cilin = CilinTable(table)
        gid = table.find_group(text)
        if gid is not None:
            options = sorted(cilin.bu_options(gid))
        elif len(text) == 1 and is_han(text):
            readings = cilin.bu_of(text)
            want = [b for g, b in readings.items() if (table.group(g).tone is Tone.PING) == (first == "平")]
            options = sorted(set(want or readings.values()))
        else:
            options = []
        if len(options) != 1:
            raise PoetcoreInputError(
                "unknown_bu", f"“{text}”定不出词林正韵的一个部。请写部=1到19，或韵=某字，如：部=7、韵=东。",
                f"{text!r} names no single 词林正韵 部: write 部=1..19 or 韵=<a character>, e.g. 部=7 or 韵=东.")
        bu = options[0]
    if (bu >= 15) != (first == "入"):
        kind = "入声" if first == "入" else "平上去声"
        raise PoetcoreInputError(
            "bu_tone", f"{form.name}首韵押{first}声，须用{kind}的部，{BU_NAMES[bu - 1]}不合。",
            f"{form.name} first rhymes in {first}: {BU_NAMES[bu - 1]} does not fit (use a {kind} 部).")
    return f"{BU_PREFIX}{bu}"


def resolve_rhyme(raw: str, form: FormTemplate, table: RhymeTable | None = None) -> tuple[FormTemplate, str]:
    """(the form to write, the rhyme to write in): a 平水韵 group id, or ``部<k>`` for a 词.

    A 仄声 group or character asked of a 绝句 makes it a 仄韵 绝句; of a 律诗 it is refused (仄韵律诗
    are not written). A character with several readings in the form's tone is refused with them named.
    """
    table = table or RhymeTable.default()
    text = to_simplified(raw.strip())
    if form.is_ci:
        return form, _ci_rhyme(text, form, table)
    gid = table.find_group(text)
    if gid is None and len(text) == 1 and is_han(text):
        groups = table.groups(text)
        ping = sorted(g for g in groups if table.group(g).tone is Tone.PING)
        ze = sorted(g for g in groups if table.group(g).tone is not Tone.PING)
        wants_ze = form.name in ZE_RHYME_FORMS or not ping
        options = ze if wants_ze else ping
        if len(options) > 1:
            labels = "、".join(table.group_label(g) for g in options)
            raise PoetcoreInputError(
                "rhyme_ambiguous", f"“{text}”可押{labels}几个韵，请直接写韵部，如：韵={table.group_label(options[0])}。",
                f"{text!r} rhymes in {labels}: name the group, e.g. 韵={table.group_label(options[0])}.")
        gid = options[0] if options else None
    if gid is None:
        labels = "、".join(table.group_label(g) for g in table.ping_group_ids())
        raise PoetcoreInputError(
            "unknown_rhyme",
            f"“{raw}”不是平水韵的韵部，也不是一个字。平声韵部：{labels}；仄韵绝句可写仄声韵部或字，如：韵=鸟。",
            f"{raw!r} is neither a 平水韵 group nor a character. 平声 groups: {labels}; a 仄韵 绝句 takes a "
            "仄声 group or character, e.g. 韵=鸟.",
        )
    if table.group(gid).tone is Tone.PING:
        if form.name in ZE_RHYME_FORMS:
            raise PoetcoreInputError(
                "rhyme_tone", f"{form.name}押仄声韵，{table.group_label(gid)}是平声韵部。",
                f"A {form.name} rhymes in 仄; {table.group_label(gid)} is a 平声 group.")
        return form, gid
    twin = form if form.name in ZE_RHYME_FORMS else ze_form_of(form)
    if twin is None:
        raise PoetcoreInputError(
            "rhyme_ze_form", f"{table.group_label(gid)}是仄声韵部：仄韵只写绝句（五绝、七绝），{form.name}押平声。",
            f"{table.group_label(gid)} is a 仄声 group: only 绝句 (五绝, 七绝) are written in 仄 rhyme, "
            f"and a {form.name} rhymes in 平.")
    return twin, gid

