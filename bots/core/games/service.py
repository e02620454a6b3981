"""The games service: what the chat core calls for game commands, plain answers and the clock.

A move (start, answer, hint, stop, a clock tick) runs as one function in a worker thread, under the
chat's Redis lock: load the chat's game, hand it to the referee of its kind (`feihua_referee`,
`jieju_referee`, `caishi_referee`), which applies the rules, looks lines up in the index and saves.
One game runs per chat, of any kind; the state is `bots.core.games.store`, flood control is
`bots.core.games.outbox`, the index is `poetcore.lines`.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import redis

from bots.core.games.caishi_referee import CaishiReferee
from bots.core.games.feihua_referee import FeihuaReferee
from bots.core.games.jieju_referee import JiejuReferee
from bots.core.games.outbox import Outbox
from bots.core.games.referee import Referee
from bots.core.games.rules import GameInputError, looks_like_line
from bots.core.games.store import GameStore, iso_week
from bots.core.messages import t
from bots.core.metrics import GAME_ANSWERS, GAME_COMMANDS
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings
from poetcore.lines import LineIndex
from poetcore.text.normalize import normalize_line

__all__ = ["GameService"]

_HELP_WORDS = frozenset({"help", "帮助", "?", "？"})
"""``/fhl help``: the games' help instead of a game."""

Move = Callable[[IncomingMessage, str], list[OutgoingMessage]]


class GameService:
    """Every game command and answer of every chat, for one platform's chat core.

    ``commands`` names what it answers: the three start commands (one per referee) and the moves
    on whatever game runs (answer, hint, stop, rank); the parser's ``GAME_COMMAND_NAMES`` is the same set.
    """

    def __init__(self, connection: redis.Redis, index: LineIndex, settings: BotSettings,
                 bot_name: str = "诗机") -> None:
        self.store = GameStore(connection)
        self.index = index
        self.settings = settings
        self.outbox = Outbox(self.store, settings)
        self._random = random.Random()
        self._referees: dict[str, Referee[Any, Any]] = {
            cls.kind: cls(self.store, index, settings, self.outbox, self._random, bot_name)
            for cls in (FeihuaReferee, JiejuReferee, CaishiReferee)
        }
        self._commands: dict[str, Move] = {
            **{kind: partial(self._start, referee) for kind, referee in self._referees.items()},
            "answer": self._answer_command, "hint": self._hint, "stop": self._stop, "rank": self._rank,
        }

    @property
    def commands(self) -> frozenset[str]:
        return frozenset(self._commands)

    # ----------------------------------------------------------------- entry points (async)
    async def command(self, name: str, body: str, msg: IncomingMessage) -> list[OutgoingMessage]:
        """/fhl, /jieju, /cai, /a, /hint, /stop, /rank."""
        GAME_COMMANDS.labels(command=name).inc()
        return await asyncio.to_thread(self._commands[name], msg, body)

    async def plain(self, msg: IncomingMessage, *, addressed: bool = False) -> list[OutgoingMessage] | None:
        """A plain message (or a reply to the bot) while a game runs: an answer, or silence.
        None when no game runs here (the core then treats the text as usual)."""
        if not addressed and not looks_like_line(msg.text):
            return None
        out = await asyncio.to_thread(self._plain, msg, addressed)
        GAME_ANSWERS.labels(outcome="ignored" if out is None else "answered").inc()
        return out

    async def tick(self, platform: str, now: float | None = None) -> list[OutgoingMessage]:
        """Warnings, ends of rounds and held-back messages that are due; call about once a second."""
        return await asyncio.to_thread(self._tick, platform, time.time() if now is None else now)

    def index_note(self, locale: str | None) -> str:
        key = "fhl_index_builtin" if self.index.info.name == "builtin" else "fhl_index_full"
        return t(key, locale, lines=f"{self.index.info.lines:,}")

    # ----------------------------------------------------------------- starting a game
    def _start(self, referee: Referee[Any, Any], msg: IncomingMessage, body: str) -> list[OutgoingMessage]:
        """Parse the options, then open the game, unless one (of any kind) runs: then say where it stands."""
        loc = msg.locale
        if referee.kind == "fhl" and body.strip().lower() in _HELP_WORDS:
            return self.outbox.reply(msg, t("fhl_help", loc, index=self.index_note(loc)), direct=True)
        try:
            options = referee.parse(body)
        except GameInputError as exc:
            return self.outbox.reply(msg, t(exc.key, loc, **exc.params), direct=True)
        now = time.time()
        with self.store.locked(msg.platform, msg.chat_id):
            running = self.store.load(msg.platform, msg.chat_id)
            if running is not None:
                text = self._referees[running.kind].state_text(running, loc, now)
                return self.outbox.reply(msg, text, direct=True)
            return referee.start(msg, options, now)

    # ----------------------------------------------------------------- moves on the running game
    def _answer_command(self, msg: IncomingMessage, body: str) -> list[OutgoingMessage]:
        if not body.strip():
            return self.outbox.reply(msg, t("fhl_answer_missing", msg.locale), direct=True)
        return self._answer(msg, body, explicit=True) or []

    def _plain(self, msg: IncomingMessage, addressed: bool) -> list[OutgoingMessage] | None:
        if not self.store.running(msg.platform, msg.chat_id):
            return None
        return self._answer(msg, msg.text, explicit=addressed)

    def _answer(self, msg: IncomingMessage, text: str, *, explicit: bool) -> list[OutgoingMessage] | None:
        now = time.time()
        line = normalize_line(text)
        with self.store.locked(msg.platform, msg.chat_id):
            game = self.store.load(msg.platform, msg.chat_id)
            if game is None:
                return self.outbox.reply(msg, t("fhl_none", msg.locale), direct=True) if explicit else None
            return self._referees[game.kind].answer(msg, game, line, explicit, now)

    def _hint(self, msg: IncomingMessage, _body: str) -> list[OutgoingMessage]:
        with self.store.locked(msg.platform, msg.chat_id):
            game = self.store.load(msg.platform, msg.chat_id)
            if game is None:
                return self.outbox.reply(msg, t("fhl_none", msg.locale), direct=True)
            return self._referees[game.kind].hint(msg, game)

    def _stop(self, msg: IncomingMessage, _body: str) -> list[OutgoingMessage]:
        """End the game now (in a group, only its starter may): its scores count on the leaderboards."""
        loc, now = msg.locale, time.time()
        with self.store.locked(msg.platform, msg.chat_id):
            game = self.store.load(msg.platform, msg.chat_id)
            if game is None:
                return self.outbox.reply(msg, t("fhl_none", loc), direct=True)
            if msg.is_group and msg.user_id != game.starter:
                return self.outbox.reply(msg, t("fhl_stop_not_yours", loc, name=game.starter_name), direct=True)
            referee = self._referees[game.kind]
            referee.end(msg.platform, msg.chat_id, game, now)
        return self.outbox.reply(msg, referee.over_text(game, loc), direct=True)

    def _rank(self, msg: IncomingMessage, _body: str) -> list[OutgoingMessage]:
        """The chat's leaderboards: all time and this week."""
        loc = msg.locale
        parts = [t("rank_header", loc)]
        for label, period in (("rank_all", "all"), ("rank_week", iso_week(time.time()))):
            parts.append(f"— {t(label, loc)} —")
            rows = self.store.board(msg.platform, msg.chat_id, period)
            parts += [t("rank_line", loc, place=i, name=n, score=s, lines=ln, best=b)
                      for i, (n, s, ln, b) in enumerate(rows, start=1)] or [t("rank_empty", loc)]
        return self.outbox.reply(msg, "\n".join(parts), direct=True)

    # ----------------------------------------------------------------- the clock
    def _tick(self, platform: str, now: float) -> list[OutgoingMessage]:
        outs: list[OutgoingMessage] = []
        for chat_id in self.store.due(platform, now):
            with self.store.locked(platform, chat_id):
                game = self.store.load(platform, chat_id)
                if game is None:
                    self.store.finish(platform, chat_id)
                    continue
                outs += self._referees[game.kind].tick(platform, chat_id, game, now)
        return outs + self.outbox.due(platform, now)
