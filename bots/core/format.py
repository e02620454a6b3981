"""Rendering poems, check reports and the forms list as chat text (plain text: safe on every platform)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bots.core.messages import lang, t
from poetcore.prosody.forms import FORMS
from poetcore.text.chars import PUNCTUATION, to_traditional

__all__ = ["render_check", "render_ci_check", "render_forms", "render_poem", "render_rhyme", "render_yun"]


def _punctuate(lines: Sequence[str]) -> list[str]:
    """Odd lines end in "，", even lines in "。", whatever the composer left at the ends."""
    out = []
    for i, line in enumerate(lines):
        body = line.strip().rstrip(PUNCTUATION)
        out.append(body + ("，" if i % 2 == 0 else "。"))
    return out


def render_poem(
    *,
    title: str,
    lines: Sequence[str],
    form: str,
    rhyme: str,
    locale: str | None,
    traditional: bool = False,
) -> str:
    """Title line, the punctuated lines, then form and rhyme group.

    ``traditional`` says the engine wrote the poem in traditional characters (it picks a candidate
    that still scans after conversion); only the bot's own words around it follow the script here.
    """
    title = title.strip().strip("《》") or t("poem_untitled", locale)
    body = _punctuate(lines)
    footer = (
        t("poem_footer", locale, form=form, rhyme=rhyme) if rhyme else t("poem_footer_no_rhyme", locale, form=form)
    )
    if traditional:
        # The footer's Chinese parts (form, rhyme group) follow the poem's script; English stays.
        footer = to_traditional(footer) if lang(locale) == "zh" else footer.replace(form, to_traditional(form))
    return "\n".join([f"《{title}》", *body, "", footer])


def render_forms(locale: str | None) -> str:
    """The /forms answer: each supported form with its shape and aliases."""
    sep = ", " if lang(locale) == "en" else "、"
    rows = [t("forms_header", locale)]
    for form in FORMS.values():
        aliases = t("forms_aliases", locale, aliases=sep.join(form.aliases)) if form.aliases else ""
        rows.append(
            t("forms_line", locale, name=form.name, n_lines=form.n_lines, line_length=form.line_length, aliases=aliases)
        )
    rows.append(t("forms_footer", locale, example=next(iter(FORMS))))
    return "\n".join(rows)


def _violation_text(violation: Any, locale: str | None) -> str:
    """One violation in the user's language, whatever shape the checker gives it (object or dict)."""
    if isinstance(violation, str):
        return violation
    english = lang(locale) == "en"
    for attr in ("message_en", "message") if english else ("message_zh", "message"):
        value = violation.get(attr) if isinstance(violation, dict) else getattr(violation, attr, None)
        if callable(value):
            value = value(locale)
        if isinstance(value, str) and value:
            return value
    return str(violation)


def render_check(report: Any, locale: str | None, suggestions: Sequence[Any] = ()) -> str:
    """The /check answer: verdict, form, rhyme group, every finding explained, and the top three
    replacements for each faulty character."""
    form = report.form or "?"
    variant = getattr(report, "variant", None) or ""
    if report.ok:
        rows = [t("check_ok", locale, form=form, variant=variant, rhyme=report.rhyme_group or "?")]
    else:
        rows = [t("check_bad", locale, form=form, count=len(report.violations))]
        rows += [f"• {_violation_text(v, locale)}" for v in report.violations]
    tolerated = list(getattr(report, "tolerated", ()) or ())
    if tolerated:
        rows.append(t("check_ao", locale, count=len(tolerated)))
        rows += [f"• {_violation_text(v, locale)}" for v in tolerated]
    rows += [t("check_rescue", locale, note=note) for note in getattr(report, "notes", ()) or ()]
    for s in suggestions:
        rows.append(t("check_suggest", locale, line=s.line + 1, pos=s.position + 1, char=s.char,
                      options="、".join(s.replacements[:3])))
    return "\n".join(rows)


def render_rhyme(found: Any, locale: str | None) -> str:
    """/rhyme 行: tones, each 平水韵 reading with its 词林正韵 部 and corpus rhyme uses, famous lines."""
    if not found.readings and not found.tones:
        return t("rhyme_unknown", locale, char=found.char)
    rows = [t("rhyme_head", locale, char=found.char, tones=found.tones or "?")]
    rows += [t("rhyme_reading", locale, label=r.label, tone=r.tone, bu=r.bu, uses=r.uses) for r in found.readings]
    if not found.readings:
        rows.append(t("rhyme_no_group", locale))
    rows += [t("rhyme_line", locale, text=r.text, source=r.source) for r in found.lines]
    return "\n".join(rows)


def render_yun(label: str, found: Any, locale: str | None) -> str:
    """/yun 东: the group's characters, most rhymed first."""
    if found is None:
        return t("yun_unknown", locale, label=label)
    gid, chars = found
    return t("yun_head", locale, gid=gid, count=len(chars)) + "\n" + " ".join(
        f"{ch}{n}" if n else ch for ch, n in chars)


def render_ci_check(report: Any, locale: str | None) -> str:
    """/check of a 词: the 词牌 and shape found, each line against its chart (平 仄 中, 韵 and 叶; a
    faulty character in 【】), then 犯律 and 拗 as for 诗."""
    head = t("ci_ok" if report.ok else "ci_bad", locale, cipai=report.cipai, shape=report.shape,
             count=len(report.violations))
    rows = [head]
    for line, pattern, marks, rhyme in zip(report.lines, report.chart, report.marks, report.rhyme_marks,
                                           strict=True):
        text = "".join(f"【{ch}】" if mark == "bad" else ch for ch, mark in zip(line, marks, strict=True))
        rows.append(f"{text}　{pattern}" + (f"（{rhyme}）" if rhyme else ""))
    rows += [f"• {_violation_text(v, locale)}" for v in report.violations]
    if report.tolerated:
        rows.append(t("check_ao", locale, count=len(report.tolerated)))
        rows += [f"• {_violation_text(v, locale)}" for v in report.tolerated]
    return "\n".join(rows)
