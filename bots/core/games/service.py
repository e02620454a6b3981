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
from bots.core.games.outbox import Outbox, stamp
from bots.core.games.referee import Referee, index_note, player_name
from bots.core.games.rules import GameInputError, answer_lines, looks_like_line
from bots.core.games.store import Game, GameStore, iso_week
from bots.core.messages import t
from bots.core.metrics import GAME_ANSWERS, GAME_COMMANDS
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings
from poetcore.lines import LineIndex

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
        """Warnings, ends of rounds and verdict boards that are due; call about once a second."""
        return await asyncio.to_thread(self._tick, platform, time.time() if now is None else now)

    async def shown(self, platform: str, out: OutgoingMessage, at: float) -> None:
        """A front-end sent ``out`` and it was visible ``at``: the clock it starts (``out.clock``)
        counts from then (`Outbox.shown`)."""
        if out.clock is not None:
            await asyncio.to_thread(self.outbox.shown, platform, out.chat_id, out.clock, at)

    def index_note(self, locale: str | None) -> str:
        """The index in players' words, for /help (`referee.index_note`)."""
        return index_note(self.index, locale)

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
            if running is not None and running.kind != referee.kind:
                return self.outbox.reply(msg, self._other_running(running, referee, msg), direct=True)
            if running is not None:
                text = self._referees[running.kind].state_text(running, loc, now)
                return self.outbox.reply(msg, text, direct=True)
            return stamp(referee.start(msg, options, now), self.store.load(msg.platform, msg.chat_id), None, now)

    def _other_running(self, running: Game, wanted: Referee[Any, Any], msg: IncomingMessage) -> str:
        """Another game runs: refuse, naming it and how it ends (in a group only its starter stops it)."""
        loc = msg.locale
        if msg.is_group and running.starter != msg.user_id:
            how = t("game_stop_how_starter", loc, name=running.starter_name)
        else:
            how = t("game_stop_how", loc)
        return t("game_other_running", loc, running=t(self._referees[running.kind].name_key, loc), how=how,
                 wanted=t(wanted.name_key, loc))

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
        lines = answer_lines(text)
        with self.store.locked(msg.platform, msg.chat_id):
            game = self.store.load(msg.platform, msg.chat_id)
            if game is None:
                return self.outbox.reply(msg, t("fhl_none", msg.locale), direct=True) if explicit else None
            referee = self._referees[game.kind]
            line = lines[0] if len(lines) == 1 else referee.pick(game, lines)
            if line is None:  # a couplet where one line is wanted; in plain chat, only if it quotes verse
                if not explicit and not any(self.index.lookup(one) for one in lines):
                    return []
                return self.outbox.reply(msg, t("game_one_line", msg.locale, example=lines[0]), name=player_name(msg),
                                         mark="wrong")
            before = game.deadline
            return stamp(referee.answer(msg, game, line, explicit, now), game, before, now)

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
        return self.outbox.reply(msg, referee.stop_text(game, loc), direct=True)

    def _rank(self, msg: IncomingMessage, _body: str) -> list[OutgoingMessage]:
        """The chat's leaderboards: all time and this week."""
        loc = msg.locale
        parts = [t("rank_header" if msg.is_group else "rank_header_private", loc)]
        for label, period in (("rank_all", "all"), ("rank_week", iso_week(time.time()))):
            parts.append(f"— {t(label, loc)} —")
            rows = self.store.board(msg.platform, msg.chat_id, period)
            parts += [t("rank_line", loc, place=i, name=n, score=s, lines=ln, best=b,
                        games=self._points_by_game(by_game, s, loc) if period == "all" else "")
                      for i, (n, s, ln, b, by_game) in enumerate(rows, start=1)] or [t("rank_empty", loc)]
        return self.outbox.reply(msg, "\n".join(parts), direct=True)

    def _points_by_game(self, by_game: dict[str, int], total: int, loc: str | None) -> str:
        """"（飞花令 8 · 接句 4）": a player's all-time points per game; points recorded before the
        games were counted apart show as "早先"."""
        words = [t("rank_game", loc, game=t(referee.name_key, loc), score=by_game[kind])
                 for kind, referee in self._referees.items() if by_game.get(kind)]
        if not words:
            return ""
        if (earlier := total - sum(by_game.values())) > 0:
            words.append(t("rank_game_earlier", loc, score=earlier))
        return t("rank_games", loc, games=" · ".join(words))

    # ----------------------------------------------------------------- the clock
    def _tick(self, platform: str, now: float) -> list[OutgoingMessage]:
        outs: list[OutgoingMessage] = []
        for chat_id in self.store.due(platform, now):
            with self.store.locked(platform, chat_id):
                game = self.store.load(platform, chat_id)
                if game is None:
                    self.store.finish(platform, chat_id)
                    continue
                before = game.deadline
                outs += stamp(self._referees[game.kind].tick(platform, chat_id, game, now), game, before, now)
        return outs + self.outbox.due(platform, now)
