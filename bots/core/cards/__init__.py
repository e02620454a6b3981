"""Poem cards: a poem as a picture to post, set vertically (竖排) right to left with a red seal.

``poem`` (what a card shows: `CardPoem`, read back from a poem message by `read_poem_message`),
``font`` (the typeface and its cmap), ``render`` (the drawing: `render_card`, PNG bytes) and
``service`` (`PoemCards`: the card as an `OutgoingMessage`, drawn in a thread, text when it cannot).
"""

from bots.core.cards.font import CardFont, CardFontMissing, find_font, load_font
from bots.core.cards.poem import CardPoem, read_poem_message
from bots.core.cards.render import CardStyle, MissingGlyphs, card_columns, render_card
from bots.core.cards.service import CAPTION_LIMIT, CARD_FILENAME, PoemCards

__all__ = [
    "CAPTION_LIMIT",
    "CARD_FILENAME",
    "CardFont",
    "CardFontMissing",
    "CardPoem",
    "CardStyle",
    "MissingGlyphs",
    "PoemCards",
    "card_columns",
    "find_font",
    "load_font",
    "read_poem_message",
    "render_card",
]
