"""What a card shows: `CardPoem`, built from a poem reply or read back from the bot's own poem message.

A card is drawn from the poem itself, not from its chat text: its lines, the marks a 词's chart puts
after them, its title, form and rhyme. A worker's reply has them all (`CardPoem.from_payload`, for a
button under a fresh poem); ``/card`` replying to an older poem has only the message, which
`read_poem_message` reads back by the same catalogue templates `bots.core.format.render_poem` wrote
it with, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bots.core.format import render_poem
from bots.core.messages import CATALOGUE
from poetcore.errors import UnknownFormError
from poetcore.prosody.forms import COUPLETS, get_form
from poetcore.text.chars import PUNCTUATION, is_han, to_simplified, to_traditional
from worker.contract.protocol import PoemPayload

__all__ = ["RHYME_NOTE_CI", "RHYME_NOTE_SHI", "CardPoem", "read_poem_message"]

RHYME_NOTE_SHI = "平水韵{rhyme}韵"
"""A 诗's rhyme on the card, in Chinese whatever the reader's language: the card is the poem's page."""
RHYME_NOTE_CI = "词林正韵{rhyme}"
"""A 词's rhyme 部 on the card."""

_TITLE_RE = re.compile(r"^《(.+)》$")
_SEGMENT_RE = re.compile(rf"([^{PUNCTUATION}]+)([{PUNCTUATION}])")
_FOOTER_KEYS = ("poem_footer", "ci_footer", "poem_footer_no_rhyme")  # the catch-all "—— {form}" last


@dataclass(frozen=True)
class CardPoem:
    """One poem as a card draws it, in the script it was written in.

    ``lines`` are the chart's lines (a 词's segments) without punctuation and ``marks`` the mark
    after each (a 诗's ，。 alternate); ``title`` is the poem's title as the chat shows it (a 词's
    starts with its 词牌); ``note`` is the small-type form and rhyme (七律　平水韵东韵); ``caption``
    is the poem as chat text, sent with the picture.
    """

    title: str
    lines: tuple[str, ...]
    marks: str
    form: str
    note: str
    is_ci: bool
    traditional: bool
    caption: str

    def __post_init__(self) -> None:
        if not self.lines or len(self.marks) != len(self.lines):
            raise ValueError(f"a card needs one mark per line, got {len(self.marks)} for {len(self.lines)} lines")

    @classmethod
    def from_payload(cls, poem: PoemPayload, locale: str | None = None) -> CardPoem:
        """The card of a worker's poem (what a button under a fresh poem has at hand)."""
        caption = render_poem(title=poem.title, lines=poem.lines, form=poem.form, rhyme=poem.rhyme_group,
                              locale=locale, traditional=poem.traditional, marks=poem.marks)
        return cls._build(caption.split("\n", 1)[0][1:-1], poem.lines, poem.marks, poem.form, poem.rhyme_group,
                          poem.traditional, caption)

    @classmethod
    def _build(cls, title: str, lines: list[str] | tuple[str, ...], marks: str, form: str, rhyme: str,
               traditional: bool, caption: str) -> CardPoem:
        template = get_form(to_simplified(form))
        lines = tuple(line.strip().rstrip(PUNCTUATION) for line in lines)
        marks = marks if marks and len(marks) == len(lines) else "".join("，" if i % 2 == 0 else "。"
                                                                         for i in range(len(lines)))
        shown = to_traditional(form) if traditional else form
        rhymed = (RHYME_NOTE_CI if template.is_ci else RHYME_NOTE_SHI).format(rhyme=rhyme)
        note = shown + ("　" + rhymed if rhyme else "")
        return cls(title=title, lines=lines, marks=marks, form=shown,
                   note=to_traditional(note) if traditional else note, is_ci=template.is_ci,
                   traditional=traditional, caption=caption)


@cache
def _footer_patterns() -> tuple[re.Pattern[str], ...]:
    """The footers `render_poem` writes (both languages, and the traditional script of the Chinese),
    as patterns with the form and rhyme as groups."""
    patterns = []
    for key in _FOOTER_KEYS:
        for lang, template in CATALOGUE[key].items():
            for variant in dict.fromkeys((template, to_traditional(template) if lang == "zh" else template)):
                rx = re.escape(variant).replace(r"\{form\}", r"(?P<form>\S+)").replace(r"\{rhyme\}", r"(?P<rhyme>.+)")
                patterns.append(re.compile(rf"^{rx}$"))
    return tuple(patterns)


def read_poem_message(text: str | None) -> CardPoem | None:
    """The poem in one of the bot's poem messages (its caption too), or None when it holds none.

    A poem message is ``《title》``, its rows (a 诗's lines, a 词's sentences), an empty line and the
    footer (``—— 七律 · 平水韵东韵``); whatever follows the footer (a 续写's faults) is not the poem.
    A couplet's answer or any other text is not a poem to draw.
    """
    if not text:
        return None
    rows = text.strip().split("\n")
    title = _TITLE_RE.match(rows[0].strip()) if rows else None
    if title is None or "" not in rows:
        return None
    blank = rows.index("")
    body, footer = "".join(r.strip() for r in rows[1:blank]), rows[blank + 1].strip() if blank + 1 < len(rows) else ""
    found = next((m for rx in _footer_patterns() if (m := rx.match(footer))), None)
    if found is None:
        return None
    form, rhyme = found.group("form"), found.groupdict().get("rhyme") or ""
    segments = _SEGMENT_RE.findall(body)
    if not segments or "".join(s + m for s, m in segments) != body:
        return None
    lines, marks = [s for s, _ in segments], "".join(m for _, m in segments)
    if not all(is_han(ch) for line in lines for ch in line):
        return None
    try:
        template = get_form(to_simplified(form))
    except (UnknownFormError, KeyError, ValueError):
        return None
    if template.name in COUPLETS:
        return None
    if not template.is_ci and [len(line) for line in lines] != list(template.line_lengths):
        return None
    traditional = to_simplified(body + form) != body + form
    caption = "\n".join(rows[: blank + 2])
    return CardPoem._build(title.group(1), lines, marks if template.is_ci else "", form, rhyme, traditional, caption)
