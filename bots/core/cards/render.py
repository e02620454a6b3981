"""Drawing a card: the poem set vertically (竖排), right to left, on ruled paper, with a red seal.

From the right: the title in small type, the poem a column per line (a 诗 unpunctuated, as poems are
written out; a 词 a sentence per column with its chart's marks, in their vertical forms), then the
form and rhyme in small type and the seal (印章) under them. Columns are ruled in faint red (朱丝栏).
The card is a palette PNG: flat paper, ink and red compress well (a 七律 is about 55 KB).

`render_card` is synchronous and CPU-bound (about 70 ms for a 七律): callers on an event loop run it
in a thread (`bots.core.cards.service.PoemCards`).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import Image, ImageDraw

from bots.core.cards.font import FACE_LOCK, CardFont
from bots.core.cards.poem import CardPoem
from poetcore.text.chars import to_traditional

__all__ = ["SEAL_TEXT", "VERTICAL_MARKS", "CardStyle", "MissingGlyphs", "card_columns", "render_card"]

VERTICAL_MARKS = {"，": "︐", "。": "︒", "、": "︑", "：": "︓", "；": "︔", "！": "︕", "？": "︖",
                  ",": "︐", ".": "︒", ":": "︓", ";": "︔", "!": "︕", "?": "︖"}
"""Punctuation as vertical text writes it (the Unicode vertical forms: a comma high in its cell)."""

SEAL_TEXT = "格律诗印"
"""The seal's four characters, read as a seal is: the right column down, then the left one."""


class MissingGlyphs(Exception):
    """The font has no glyph for these characters: the card would show boxes, so none is drawn."""

    def __init__(self, chars: str) -> None:
        super().__init__(f"the card font has no glyph for {chars!r}")
        self.chars = chars


@dataclass(frozen=True)
class CardStyle:
    """Sizes (pixels) and colours of a card; the defaults make a 七律 1,267 x 756."""

    glyph: int = 72  # the poem's characters, pixels per em
    row: float = 1.12  # row pitch down a column, in ems of `glyph`
    column: float = 1.55  # column pitch, in ems of `glyph` (the gap holds the red rule)
    small: int = 30  # form and rhyme note
    title: int = 42  # the title
    small_row: float = 1.2  # row pitch of the small types, in their own ems
    column_cells: int = 12  # a 词's column holds at most this many cells (sentences wrap at a comma)
    margin: int = 96  # paper edge to the text block
    seal: int = 96  # the seal's side
    paper: tuple[int, int, int] = (244, 236, 218)  # 宣纸
    ink: tuple[int, int, int] = (35, 31, 28)
    faint: tuple[int, int, int] = (120, 104, 92)  # title and note
    rule: tuple[int, int, int] = (222, 176, 160)  # 朱丝栏
    red: tuple[int, int, int] = (176, 38, 32)  # 朱砂: frame and seal
    colours: int = 32  # palette size of the PNG


def card_columns(poem: CardPoem, cells: int) -> list[str]:
    """The poem's columns, right to left, each the characters down it.

    A 诗 gets one column per line, without punctuation. A 词 gets one per sentence (up to a mark
    other than ，), its marks in their vertical forms; a sentence longer than ``cells`` wraps at a
    comma, and a single clause longer than that wraps where it must.
    """
    if not poem.is_ci:
        return list(poem.lines)
    columns: list[str] = []
    current = ""
    for line, mark in zip(poem.lines, poem.marks, strict=True):
        clause = line + VERTICAL_MARKS.get(mark, mark)
        if current and len(current) + len(clause) > cells:
            columns.append(current)
            current = ""
        while len(clause) > cells:
            columns.append(clause[:cells])
            clause = clause[cells:]
        current += clause
        if mark != "，":
            columns.append(current)
            current = ""
    return columns + ([current] if current else [])


def _wrap(text: str, per_column: int) -> list[str]:
    per_column = max(1, per_column)
    return [text[i:i + per_column] for i in range(0, len(text), per_column)] or [""]


@dataclass(frozen=True)
class _Layout:
    """Where everything goes; x positions are column centres, y the top of the text block."""

    width: int
    height: int
    top: int
    body: list[tuple[float, str]]  # (x, column)
    rules: list[float]  # x of each red rule
    title: list[tuple[float, str]]
    note: list[tuple[float, str]]
    seal: tuple[int, int]  # top-left corner


def _layout(poem: CardPoem, style: CardStyle) -> _Layout:
    columns = card_columns(poem, style.column_cells)
    row_h = style.glyph * style.row
    col_w = style.glyph * style.column
    title_h, note_h = style.title * style.small_row, style.small * style.small_row
    rows = max(len(c) for c in columns)
    note_chars = len(poem.note)
    height = max(rows * row_h, note_chars * note_h + style.seal * 1.25, 4 * title_h)
    titles = _wrap(poem.title, math.floor(height / title_h))
    notes = _wrap(poem.note, math.floor((height - style.seal * 1.25) / note_h))
    title_w, note_w = style.title * 1.6, max(style.small * 1.8, style.seal * 1.2)
    width = 2 * style.margin + len(titles) * title_w + len(columns) * col_w + max(len(notes) * note_w, note_w)
    x = width - style.margin
    title_cols = []
    for text in titles:
        title_cols.append((x - title_w / 2, text))
        x -= title_w
    rules = [x]
    body = []
    for text in columns:
        body.append((x - col_w / 2, text))
        x -= col_w
        rules.append(x)
    note_cols = []
    for text in notes:
        note_cols.append((x - note_w / 2, text))
        x -= note_w
    seal_x = round(note_cols[-1][0] - style.seal / 2)
    seal_y = round(style.margin + height - style.seal)
    return _Layout(width=round(width), height=round(height + 2 * style.margin), top=style.margin, body=body,
                   rules=rules, title=title_cols, note=note_cols, seal=(seal_x, seal_y))


def _column(draw: ImageDraw.ImageDraw, font: CardFont, size: int, pitch: float, x: float, top: float, text: str,
            fill: tuple[int, int, int]) -> None:
    """Characters down a column, each centred across it and set in its em box."""
    face = font.face(size)
    for i, ch in enumerate(text):
        cell_top = top + i * pitch + (pitch - size) / 2
        draw.text((x - face.getlength(ch) / 2, cell_top + font.ascent * size), ch, font=face, fill=fill, anchor="ls")


def _seal(image: Image.Image, font: CardFont, style: CardStyle, corner: tuple[int, int], text: str) -> None:
    """A square 白文 seal: four characters cut white out of red, read right column first."""
    side = style.seal
    draw = ImageDraw.Draw(image)
    x0, y0 = corner
    draw.rounded_rectangle((x0, y0, x0 + side, y0 + side), radius=side // 12, fill=style.red)
    size = round(side * 0.4)
    face = font.face(size)
    half = side / 2
    for i, ch in enumerate(text[:4]):
        cx = x0 + (side * 0.75 if i < 2 else side * 0.25)
        cell_top = y0 + (i % 2) * half + (half - size) / 2
        draw.text((cx - face.getlength(ch) / 2, cell_top + font.ascent * size), ch, font=face, fill=style.paper,
                  anchor="ls", stroke_width=1, stroke_fill=style.paper)


def render_card(poem: CardPoem, font: CardFont, style: CardStyle = CardStyle()) -> bytes:
    """The card of ``poem`` as PNG bytes.

    Raises:
        MissingGlyphs: the font lacks a character of the poem, its title or its note.
    """
    seal = to_traditional(SEAL_TEXT) if poem.traditional else SEAL_TEXT
    columns_text = "".join(card_columns(poem, style.column_cells))
    missing = font.missing(poem.title + columns_text + poem.note + seal)
    if missing:
        raise MissingGlyphs(missing)
    layout = _layout(poem, style)
    image = Image.new("RGB", (layout.width, layout.height), style.paper)
    draw = ImageDraw.Draw(image)
    inset = style.margin // 3
    draw.rectangle((inset, inset, layout.width - inset, layout.height - inset), outline=style.red, width=3)
    draw.rectangle((inset + 8, inset + 8, layout.width - inset - 8, layout.height - inset - 8), outline=style.rule,
                   width=1)
    block_top, block_bottom = layout.top - style.glyph * 0.3, layout.height - layout.top + style.glyph * 0.3
    for x in layout.rules:
        draw.line(((round(x), round(block_top)), (round(x), round(block_bottom))), fill=style.rule, width=2)
    with FACE_LOCK:
        for x, text in layout.title:
            _column(draw, font, style.title, style.title * style.small_row, x, layout.top, text, style.faint)
        for x, text in layout.body:
            _column(draw, font, style.glyph, style.glyph * style.row, x, layout.top, text, style.ink)
        for x, text in layout.note:
            _column(draw, font, style.small, style.small * style.small_row, x, layout.top, text, style.faint)
        _seal(image, font, style, layout.seal, seal)
    out = io.BytesIO()
    image.quantize(colors=style.colours, method=Image.Quantize.MEDIANCUT).save(out, format="PNG", optimize=False)
    return out.getvalue()
