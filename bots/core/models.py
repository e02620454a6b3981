"""Platform-neutral message shapes: what a front-end hands the core and what it sends back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["IncomingMessage", "OutgoingMessage"]


@dataclass(frozen=True)
class IncomingMessage:
    """One user message as every front-end sees it."""

    platform: str  # "telegram" | "discord" | "console"
    chat_id: str  # Telegram chat id / Discord channel id / "console"
    user_id: str
    text: str  # raw text, e.g. "/poem@poetbot 秋月 七绝" or "!poem 秋月"
    locale: str | None = None  # Telegram language_code / Discord locale
    message_id: str | None = None
    is_group: bool = False
    route: dict[str, Any] | None = None  # platform routing data carried to the reply (e.g. Discord interaction)
    user_name: str | None = None  # what scoreboards call the user (first name, display name)
    reply_to_bot: bool = False  # the message replies to one of the bot's own (an answer in a game)
    replied_text: str | None = None  # the text (or caption) of the message this one replies to (/card)


@dataclass(frozen=True)
class OutgoingMessage:
    """One message for a front-end to send (or to edit into an earlier placeholder)."""

    chat_id: str
    text: str
    reply_to_message_id: str | None = None
    request_id: str | None = None  # set on the "正在作诗…" placeholder of a queued request
    parse_mode: str | None = None
    edit_message_id: str | None = None  # run_delivery: the stored placeholder to edit into the poem (None: send new)
    board_key: str | None = None  # a game board: remember the sent message's id under this key, to edit it later
    mark: str | None = None  # a game verdict ("right" "wrong" "repeat" "near"): react on reply_to_message_id with it
    mark_only: bool = False  # the reaction is the whole answer now (the text waits for the game's board); the text
    #                          is sent only where no reaction can be set
    clock: tuple[float, float] | None = None  # a game clock this message starts, (judged at, deadline then): once
    #                          it is visible the front-end says when (`ChatCore.game_visible`), and the clock moves
    image: bytes | None = field(default=None, repr=False)  # a picture (a poem card's PNG) sent as a photo or an
    #                          attachment, with ``text`` as its caption
    image_name: str = "poem.png"
