"""`PoemCards`: a poem's card as a message to send, drawn off the event loop, or its text when it cannot be.

The chat core calls it for ``/card`` (a reply to a poem); a button under a poem calls the same
`PoemCards.message` with `CardPoem.from_payload`. Drawing takes tens of milliseconds of CPU, so it
runs in a thread (``asyncio.to_thread``) and the loop keeps serving other chats meanwhile.

Nothing here crashes a handler: without a usable font the card is the poem's text, with one
WARNING line in the log saying what to install; a poem with a character the font lacks is sent as
text too, naming the character, rather than drawn with a box.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bots.core.cards.font import CardFont, CardFontMissing, find_font, load_font
from bots.core.cards.poem import CardPoem
from bots.core.cards.render import CardStyle, MissingGlyphs, render_card
from bots.core.messages import t
from bots.core.models import OutgoingMessage

__all__ = ["CAPTION_LIMIT", "CARD_FILENAME", "PoemCards"]

log = logging.getLogger(__name__)

CAPTION_LIMIT = 1024
"""Telegram's limit on a photo's caption (Discord's message limit, 2,000, is larger)."""
CARD_FILENAME = "poem.png"


class PoemCards:
    """Draws poem cards with one font.

    Args:
        font_path: the font file (POETBOT_CARD_FONT); None: Noto Serif SC from the ``cards`` extra.
        style: sizes and colours.
    """

    def __init__(self, font_path: Path | None = None, style: CardStyle = CardStyle()) -> None:
        self.font_path = font_path
        self.style = style
        self._warned = False

    def font(self) -> CardFont:
        """The loaded font (read once per process). Raises `CardFontMissing`."""
        return load_font(find_font(self.font_path))

    def render(self, poem: CardPoem) -> bytes:
        """The card as PNG bytes, drawn in the calling thread. Raises `CardFontMissing`, `MissingGlyphs`."""
        return render_card(poem, self.font(), self.style)

    async def message(self, poem: CardPoem, *, chat_id: str, reply_to: str | None, locale: str | None
                      ) -> OutgoingMessage:
        """The card, captioned with the poem, as a message for ``chat_id``; the poem's text with a
        note when no card can be drawn."""
        try:
            image = await asyncio.to_thread(self.render, poem)
        except CardFontMissing as exc:
            if not self._warned:  # once per process: every /card would say the same
                log.warning("cards: no font, answering /card with text: %s", exc)
                self._warned = True
            return OutgoingMessage(chat_id, t("card_no_font", locale, poem=poem.caption), reply_to_message_id=reply_to)
        except MissingGlyphs as exc:
            log.info("cards: the font lacks %r; the poem goes as text", exc.chars)
            return OutgoingMessage(chat_id, t("card_no_glyph", locale, chars=exc.chars, poem=poem.caption),
                                   reply_to_message_id=reply_to)
        caption = poem.caption if len(poem.caption) <= CAPTION_LIMIT else poem.caption[:CAPTION_LIMIT - 1] + "…"
        return OutgoingMessage(chat_id, caption, reply_to_message_id=reply_to, image=image,
                               image_name=CARD_FILENAME)
