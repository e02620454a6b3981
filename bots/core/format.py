"""Rendering poems, check reports and the forms list as chat text (plain text: safe on every platform)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bots.core.messages import lang, t
from poetcore.lexicon.rhyme_lookup import four_tone
from poetcore.prosody.cipu import ci_form, load_cipu
from poetcore.prosody.forms import FORMS, ZE_RHYME_FORMS
from poetcore.text.chars import PUNCTUATION, poem_sentences, to_traditional

__all__ = ["render_check", "render_ci_check", "render_cipai_list", "render_forms", "render_poem", "render_rhyme",
           "render_yun"]


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
    marks: str = "",
) -> str:
    """Title line, the punctuated lines, then form and rhyme group.

    ``traditional`` says the engine wrote the poem in traditional characters (it picks a candidate
    that still scans after conversion); only the bot's own words around it follow the script here.
    A 词 brings its ``marks`` (its chart's breaks): it is titled 词牌·题 and printed a sentence a row.
    """
    title = title.strip().strip("《》") or t("poem_untitled", locale)
    if marks and len(marks) == len(lines):
        body = poem_sentences([line.strip().rstrip(PUNCTUATION) for line in lines], marks)
        shown = to_traditional(form) if traditional else form
        title = title if title == shown else f"{shown}·{title}"
    else:
        body = _punctuate(lines)
    footer_key = "ci_footer" if marks else "poem_footer"
    footer = t(footer_key, locale, form=form, rhyme=rhyme) if rhyme else t("poem_footer_no_rhyme", locale, form=form)
    if traditional:
        # The footer's Chinese parts (form, rhyme group) follow the poem's script; English stays.
        footer = to_traditional(footer) if lang(locale) == "zh" else footer.replace(form, to_traditional(form))
    return "\n".join([f"《{title}》", *body, "", footer])


def render_cipai_list(locale: str | None) -> str:
    """The /ci answer: every charted 词牌 (most written first) with its size, rhyme and aliases."""
    sep = ", " if lang(locale) == "en" else "、"
    charts = [c for c in load_cipu().values() if c.shapes]
    rows = [t("ci_list_header", locale, count=len(charts))]
    for chart in charts:
        form = ci_form(chart)
        rhyme = "→".join(f"{'入声' if s.tone == '入' else s.tone}韵" for s in form.variants[0].rhyme_groups)
        shown = [a for a in form.aliases if a != chart.cipai][:3]  # not the package's double name (望江南忆江南)
        aliases = t("forms_aliases", locale, aliases=sep.join(shown)) if shown else ""
        rows.append(t("ci_list_line", locale, name=form.name, chars=sum(form.line_lengths), rhyme=rhyme,
                      aliases=aliases))
    rows.append(t("ci_list_footer", locale))
    return "\n".join(rows)


def render_forms(locale: str | None) -> str:
    """The /forms answer: each supported form with its shape and aliases."""
    sep = ", " if lang(locale) == "en" else "、"
    rows = [t("forms_header", locale)]
    for form in FORMS.values():
        aliases = t("forms_aliases", locale, aliases=sep.join(form.aliases)) if form.aliases else ""
        rows.append(
            t("forms_line", locale, name=form.name, n_lines=form.n_lines, line_length=form.line_length, aliases=aliases)
        )
    rows.append(t("forms_more", locale, ze=sep.join(ZE_RHYME_FORMS), count=sum(1 for c in load_cipu().values() if c.shapes)))
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


def _render_gu_jue(report: Any, locale: str | None) -> list[str]:
    """A 古绝: named first (古体, its rhyme tone and group), the rhyme faults, then the 近体 findings
    as 参考 and how to have it checked as a 律绝 instead."""
    tone = t("check_gu_tone_ze" if report.rhyme_tone == "仄" else "check_gu_tone_ping", locale)
    rhyme = report.rhyme_name or "?"
    if report.ok:
        rows = [t("check_gu_ok", locale, form=report.form_label, tone=tone, rhyme=rhyme)]
    else:
        rows = [t("check_gu_bad", locale, form=report.form_label, tone=tone, rhyme=rhyme, count=len(report.violations))]
        rows += [f"• {_violation_text(v, locale)}" for v in report.violations]
    rows += [t("check_rescue", locale, note=note) for note in report.notes]
    if report.reference:
        key = "check_reference_ze" if report.rhyme_tone == "仄" else "check_reference"
        rows.append(t(key, locale, count=len(report.reference)))
        rows += [f"• {_violation_text(v, locale)}" for v in report.reference]
    jue = "五绝" if len(report.lines[0]) == 5 else "七绝"
    rows.append(t("check_gu_as_jue", locale, form=jue, head=report.lines[0]))
    return rows


def render_check(report: Any, locale: str | None, suggestions: Sequence[Any] = ()) -> str:
    """The /check answer: verdict, form, rhyme group, every finding explained, and the top three
    replacements for each faulty character. A 古绝 (``style`` 古体) is named as such, its 近体
    findings shown as 参考."""
    if getattr(report, "style", None) == "古体":
        return "\n".join(_render_gu_jue(report, locale))
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


def _rhyme_tones(found: Any, locale: str | None) -> str:
    """平声; 仄声 with its 上/去/入声; or 平仄两读 with the groups of each tone."""
    sep = "、" if lang(locale) == "zh" else ", "
    ping = [r.gid for r in found.readings if r.tone == "平"]
    ze = [r.gid for r in found.readings if r.tone == "仄"]
    if "平" in found.tones and "仄" in found.tones:
        if ping and ze:
            return t("rhyme_tones_both_readings", locale, ping=sep.join(ping), ze=sep.join(ze))
        return t("rhyme_tones_both", locale)
    if found.tones == "平":
        return t("rhyme_tones_ping", locale)
    sounds = sorted({r.four_tone for r in found.readings}, key=lambda s: "上去入".find(s[0]))
    return t("rhyme_tones_ze_sounds", locale, sounds=sep.join(sounds)) if sounds else t("rhyme_tones_ze", locale)


def render_rhyme(found: Any, locale: str | None) -> str:
    """/rhyme 行: tones (平仄两读 names each tone's groups), each 平水韵 reading with its 四声, 词林正韵 部
    and corpus rhyme uses, famous lines; a traditional or variant form says which form was looked up."""
    if not found.readings and not found.tones:
        return t("rhyme_unknown", locale, char=found.char)
    tones = _rhyme_tones(found, locale)
    key = found.looked_up or found.char
    rows = [t("rhyme_head", locale, char=found.char, tones=tones) if key == found.char
            else t("rhyme_head_folded", locale, char=found.char, key=key, tones=tones)]
    for r in found.readings:
        if r.tone == "平":
            rows.append(t("rhyme_reading", locale, label=r.label, tone=r.tone, bu=r.bu, uses=r.uses))
        else:
            rows.append(t("rhyme_reading_ze", locale, label=r.label, sound=r.four_tone, bu=r.bu, uses=r.uses))
    if not found.readings:
        rows.append(t("rhyme_no_group", locale))
    rows += [t("rhyme_line", locale, text=r.text, source=r.source) for r in found.lines]
    return "\n".join(rows)


def render_yun(label: str, found: Any, locale: str | None) -> str:
    """/yun 东: the group's characters, most rhymed first; those the corpus never rhymes there follow on
    a line of their own, and a group nobody rhymes in says it has no order."""
    if found is None:
        return t("yun_unknown", locale, label=label)
    gid, chars = found
    rhymed = [f"{ch}{n}" for ch, n in chars if n]
    unrhymed = " ".join(ch for ch, n in chars if not n)
    if not rhymed:
        return t("yun_head_unranked", locale, gid=gid, count=len(chars)) + "\n" + unrhymed
    sound = four_tone(gid)
    head = (t("yun_head", locale, gid=gid, count=len(chars)) if sound == "平声"
            else t("yun_head_ze", locale, gid=gid, sound=sound, count=len(chars)))
    return "\n".join([head, " ".join(rhymed)] + ([t("yun_unrhymed", locale, chars=unrhymed)] if unrhymed else []))


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
