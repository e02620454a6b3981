"""Flood control for game messages: a busy group gets its verdicts combined, not one by one.

A group takes about 20 bot messages a minute, so past ``game_chat_limit`` game messages in
``game_chat_window_s`` a chat's verdicts are held back in Redis and the clock sends them every
``game_flush_s`` as one combined message. Answers the asker needs at once (errors, the state of the
game, a new round) go out ``direct``; private chats are never held.
"""

from __future__ import annotations

import time

from bots.core.games.store import GameStore
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings

__all__ = ["COMBINED_CHARS", "Outbox"]

COMBINED_CHARS = 3500
"""A combined message stays under Telegram's 4096 characters (Discord's sender splits at 2000)."""


def _batches(items: list[str], limit: int) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for item in items:
        if batches[-1] and size + len(item) + 1 > limit:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += len(item) + 1
    return batches


class Outbox:
    """Every game message to a chat goes through ``reply``; the clock collects held ones with ``due``."""

    def __init__(self, store: GameStore, settings: BotSettings) -> None:
        self.store = store
        self.settings = settings

    def reply(self, msg: IncomingMessage, text: str, *, direct: bool = False,
              name: str | None = None) -> list[OutgoingMessage]:
        """One reply, or none now when the group is busy (then it goes out combined, later, after ``name``)."""
        out = [OutgoingMessage(msg.chat_id, text, reply_to_message_id=msg.message_id)]
        if not msg.is_group:
            return out
        sent = self.store.count_sent(msg.platform, msg.chat_id, self.settings.game_chat_window_s)
        if direct or sent <= self.settings.game_chat_limit:
            return out
        held = f"{name}：{text}" if name else text
        self.store.hold(msg.platform, msg.chat_id, held, time.time() + self.settings.game_flush_s)
        return []

    def due(self, platform: str, now: float) -> list[OutgoingMessage]:
        """The held messages whose time has come, combined per chat (each taken by one bot process)."""
        return [OutgoingMessage(chat_id, t("fhl_combined", None, items="\n".join(batch)))
                for chat_id, items in self.store.take_held(platform, now).items()
                for batch in _batches(items, COMBINED_CHARS)]
