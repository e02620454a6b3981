"""Game verdicts that keep up with a busy group: a mark at once, the details as the budget allows.

A group takes about 20 bot messages a minute on Telegram, sends and edits alike (Discord: 5 posts
per 5 s per channel), and a lively round brings more answers than that. So a verdict in a group has
two parts:

- its **mark**: a reaction on the player's own message (``right``, ``wrong``, ``repeat``, ``near``:
  each front-end picks the emoji its platform allows), set at once by the move's own handler. A
  reaction is no message: it spends none of the group's message budget, and since a chat's moves
  are handled one at a time, in order, a later answer's mark never shows before an earlier one's;
- its **details** (the source, the points, what was wrong): a reply while the chat is quiet (fewer
  than ``game_chat_limit`` game messages in ``game_chat_window_s``, and room in the platform's pace,
  `group_pace`); past that, a line on the chat's **verdict board**, one message edited in place at
  most every ``game_flush_s`` (a full page starts a new message). Replies and board edits both
  leave ``BOARD_RESERVE`` messages of the pace to direct answers, so the group's limit is never the
  bot's to exceed and no handler waits on it. Once a board is in use, every later verdict of the
  chat goes on it until the chat has been quiet for a window, so the details keep the answers'
  order too.

Answers the asker needs whole and at once go out ``direct``, as replies, with their mark: errors,
a game's state, a new round, the bot's own line in 对战, the next 接句 question. So does every
answer to a Discord slash command (no message of the player's to react to). Private chats get plain
replies.

Clocks pause for nobody: the message that starts a clock (a round, a turn, a question) carries it
(`stamp`), the front-end says when that message became visible, and `Outbox.shown` moves the game's
clocks by the time that took, so a slow platform never eats a player's turn.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, Protocol

import redis

from bots.core.admission import group_pace
from bots.core.games.store import GameStore
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings

__all__ = ["BOARD_CHARS", "BOARD_RESERVE", "MARKS", "Mark", "Outbox", "stamp"]

log = logging.getLogger(__name__)

Mark = Literal["right", "wrong", "repeat", "near"]
MARKS: tuple[Mark, ...] = ("right", "wrong", "repeat", "near")
"""A verdict's kinds, as ``OutgoingMessage.mark`` carries them; the front-ends map each to a reaction."""

BOARD_CHARS = 3500
"""A board page stays under Telegram's 4,096 characters."""
_PAGE_CHARS = {"discord": 1900}
"""Platforms whose messages are shorter (Discord: 2,000): an edit cannot be split like a post."""

BOARD_RESERVE = 2
"""Messages of a group's pace (Telegram: 20 a minute; Discord: 5 per 5 s) that verdict replies and
the board never take: room for direct answers (a new round, the bot's line in 对战)."""

_CLOCK_FIELDS = ("deadline", "asked_at")
"""The game-state fields that are times on its clock (a 接句 question's hints count from ``asked_at``)."""


class _Timed(Protocol):
    deadline: float


def stamp(outs: list[OutgoingMessage], game: _Timed | None, before: float | None,
          now: float) -> list[OutgoingMessage]:
    """Mark the first of a move's messages as starting the game's clock, when the move (judged at
    ``now``) set a new deadline (``before``: the deadline before it; None: a new game)."""
    if game is None or not outs or game.deadline == before:
        return outs
    return [replace(outs[0], clock=(now, game.deadline)), *outs[1:]]


def _pages(lines: Sequence[str], limit: int, render: Any) -> list[list[str]]:
    """``lines`` in order, as few pages as fit ``limit`` characters once rendered (one line at least)."""
    pages: list[list[str]] = [[]]
    for line in lines:
        if pages[-1] and len(render([*pages[-1], line])) > limit:
            pages.append([])
        pages[-1].append(line)
    return pages


class Outbox:
    """Every game message to a chat goes through ``reply``; the clock shows waiting board lines with
    ``due``; the front-ends report a clock's message visible through ``shown``."""

    def __init__(self, store: GameStore, settings: BotSettings) -> None:
        self.store = store
        self.settings = settings

    # ----------------------------------------------------------------- answers
    def reply(self, msg: IncomingMessage, text: str, *, direct: bool = False, name: str | None = None,
              mark: Mark | None = None) -> list[OutgoingMessage]:
        """The answer to ``msg``: a reply, or in a busy group its mark now and its details on the board.

        A verdict is an answer with a ``mark`` or the player's ``name`` (the board says whose it is);
        only verdicts wait for the board. Call it under the chat's lock (every move is).
        """
        out = OutgoingMessage(msg.chat_id, text, reply_to_message_id=msg.message_id)
        if not msg.is_group:
            return [out]
        if mark is not None and msg.message_id:
            out = replace(out, mark=mark)
        if direct or (mark is None and name is None) or not msg.message_id:
            if (msg.route or {}).get("kind") != "interaction":  # a slash command's follow-up is no channel post
                self._count(msg.platform, msg.chat_id)
            return [out]
        now = time.time()
        board = self.store.verdicts(msg.platform, msg.chat_id)
        if board is not None and now - board["active"] >= self.settings.game_chat_window_s:
            board = None  # the chat was quiet a window long: its next board is a new message
        if board is None and self._free_at(msg.platform, msg.chat_id, now, self.settings.game_chat_limit) <= now:
            self._count(msg.platform, msg.chat_id, now)
            return [out]
        if board is None:
            board = {"key": self._board_key(msg.chat_id, now), "lines": [], "shown": 0, "last": 0.0,
                     "locale": msg.locale}
        board["lines"].append(f"{name}：{text}" if name else text)
        board["active"] = now
        shown = self._show(msg.platform, msg.chat_id, board, now)
        marked = [replace(out, mark_only=True)] if out.mark else []
        return marked + shown

    # ----------------------------------------------------------------- the board
    def due(self, platform: str, now: float) -> list[OutgoingMessage]:
        """The boards whose waiting lines are due now (each chat taken by one bot process)."""
        outs: list[OutgoingMessage] = []
        for chat_id in self.store.take_flushes(platform, now):
            with self.store.locked(platform, chat_id):
                board = self.store.verdicts(platform, chat_id)
                if board is not None:
                    outs += self._show(platform, chat_id, board, now)
        return outs

    def _show(self, platform: str, chat_id: str, board: dict[str, Any], now: float) -> list[OutgoingMessage]:
        """Save ``board``; if its waiting lines may be shown now, the message(s) that show them, else
        none, and the clock comes back for them when they may."""
        settings = self.settings
        waiting = board["lines"][board["shown"]:]
        ready_at = max(board["last"] + settings.game_flush_s, self._free_at(platform, chat_id, now))
        outs: list[OutgoingMessage] = []
        if waiting and now >= ready_at:
            locale = board.get("locale")

            def render(lines: Sequence[str]) -> str:
                return t("fhl_combined", locale, items="\n".join(lines))

            limit = _PAGE_CHARS.get(platform, BOARD_CHARS)
            if len(render(board["lines"])) > limit:  # the page is full: the waiting lines start new ones
                *full, last = _pages(waiting, limit, render)
                outs += [OutgoingMessage(chat_id, render(page), board_key=self._board_key(chat_id, now, i))
                         for i, page in enumerate(full, start=1)]
                board["key"], board["lines"] = self._board_key(chat_id, now), last
            outs.append(OutgoingMessage(chat_id, render(board["lines"]), board_key=board["key"],
                                        edit_message_id=self.store.board_message(platform, board["key"])))
            board["shown"], board["last"] = len(board["lines"]), now
            for _ in outs:
                self._count(platform, chat_id, now)
        elif waiting:
            self.store.flush_at(platform, chat_id, ready_at)
        self.store.save_verdicts(platform, chat_id, board, settings.game_chat_window_s * 2 + 60)
        return outs

    @staticmethod
    def _board_key(chat_id: str, now: float, part: int = 0) -> str:
        return f"verdicts_{chat_id}_{int(now * 1000)}_{part}"[:64]

    def _free_at(self, platform: str, chat_id: str, now: float, window_limit: int | None = None) -> float:
        """When one more game message may go to the chat: the platform's pace less ``BOARD_RESERVE``
        and, if given, ``window_limit`` messages per ``game_chat_window_s`` (``<= now``: at once)."""
        limits = [(window_limit, float(self.settings.game_chat_window_s))] if window_limit is not None else []
        pace = group_pace(platform, self.settings)
        if pace is not None:
            limits.append((math.floor(pace[0]) - BOARD_RESERVE, pace[1]))
        times = self.store.sent_times(platform, chat_id, now - max((period for _n, period in limits), default=0))
        free = now
        for allowed, period in limits:
            recent = [at for at in times if at > now - period]
            if len(recent) >= max(allowed, 1):  # the oldest that must age out first
                free = max(free, recent[len(recent) - max(allowed, 1)] + period)
        return free

    def _count(self, platform: str, chat_id: str, now: float | None = None) -> None:
        """One game message goes to the chat ``now`` (the admission's window counts it too)."""
        settings = self.settings
        self.store.count_sent(platform, chat_id, settings.game_chat_window_s)
        pace = group_pace(platform, settings)
        keep = max(settings.game_chat_window_s, pace[1] if pace is not None else 0)
        self.store.log_sent(platform, chat_id, time.time() if now is None else now, keep)

    # ----------------------------------------------------------------- clocks
    def shown(self, platform: str, chat_id: str, clock: tuple[float, float], at: float) -> bool:
        """The message carrying ``clock`` (judged at, deadline then) became visible ``at``: move the
        game's clocks by the time that took. False when there was nothing to move (the game ended,
        or its clock has moved on since), or Redis could not be reached: the message is out, and the
        turn keeps the clock it was judged with."""
        judged_at, deadline = clock
        delay = at - judged_at
        if delay <= 0:
            return False
        try:
            with self.store.locked(platform, chat_id):
                game = self.store.load(platform, chat_id)
                if game is None or game.deadline != deadline:
                    return False
                for field in _CLOCK_FIELDS:
                    if hasattr(game, field):
                        setattr(game, field, getattr(game, field) + delay)
                next_tick = self.store.timer(platform, chat_id)
                self.store.save(platform, chat_id, game, (deadline if next_tick is None else next_tick) + delay)
        except redis.RedisError as exc:
            log.warning("games: cannot move %s:%s's clock by %.1f s (Redis: %s)", platform, chat_id, delay, exc)
            return False
        log.debug("games: %s:%s's clock starts %.2f s after the move, when its message showed", platform,
                  chat_id, delay)
        return True
