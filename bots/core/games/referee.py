"""What every game's referee shares: the moves the service asks of it, and the scoreboard.

A referee plays one game (飞花令, 接句, 猜诗句) against the line index and the store: it applies that
game's pure rules (`feihua`, `jieju`, `caishi`), saves or ends the game, and words the answer. It is
called by `GameService` only, which has taken the chat's lock and loaded the game first, so a
referee never locks and never sees another chat.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import ClassVar, Generic, TypeVar

from bots.core.commands import safe_echo
from bots.core.games.outbox import Outbox
from bots.core.games.rules import Scored, standings
from bots.core.games.store import Game, GameStore
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings
from poetcore.lines import LineIndex

__all__ = ["Referee", "index_note", "player_name", "scoreboard"]

G = TypeVar("G", bound=Game)  # the game's state
Options = TypeVar("Options")  # what its start command parses to

_MEDALS = ("🥇", "🥈", "🥉")


def player_name(msg: IncomingMessage) -> str:
    """What scoreboards call the sender: their name made safe to echo, else the end of their id."""
    return safe_echo(msg.user_name or "", 16) or f"#{msg.user_id[-4:]}"


def index_note(index: LineIndex, locale: str | None, *, start: bool = False) -> str:
    """The players' words for the index that judges. At a game's start only the small built-in one is
    named (what it lacks is why a well-known line may be refused); ``/help`` names either. How to build
    the full one is for operators: the log says it (`open_line_index`), and README."""
    builtin = index.info.name == "builtin"
    if start:
        return "\n" + t("game_index_builtin", locale, lines=f"{index.info.lines:,}") if builtin else ""
    if builtin:
        return t("fhl_index_builtin", locale, poems=f"{index.info.poems:,}", lines=f"{index.info.lines:,}")
    return t("fhl_index_full", locale, lines=f"{index.info.lines:,}")


def scoreboard(game: Scored, locale: str | None) -> str:
    """The game's standings, one line each, medals for the first three."""
    rows = standings(game)
    if not rows:
        return t("fhl_no_scores", locale)
    return "\n".join(t("fhl_score_line", locale, medal=_MEDALS[i] if i < 3 else f"{i + 1}.", name=name,
                       score=score, lines=lines) for i, (_pid, name, score, lines) in enumerate(rows))


class Referee(ABC, Generic[G, Options]):
    """One game's moves on its state ``G``; its start command parses to ``Options``.

    Args:
        store: the games' Redis state (the caller holds the chat's lock).
        index: the line index every verdict and question comes from.
        settings: the bots' settings (time limits, the easy bot's memory, flood control).
        outbox: every reply goes through it, so a busy group's verdicts are combined.
        rng: the service's one random source (tokens, questions, hints), so a seeded run repeats.
        bot_name: what the bot is called when it plays.
    """

    kind: ClassVar[str]
    """The state's ``kind`` and the command that starts the game ("fhl", "jieju", "cai")."""
    name_key: ClassVar[str]
    """The catalogue key of the game's name ("飞花令")."""

    def __init__(self, store: GameStore, index: LineIndex, settings: BotSettings, outbox: Outbox,
                 rng: random.Random, bot_name: str) -> None:
        self.store = store
        self.index = index
        self.settings = settings
        self.outbox = outbox
        self.rng = rng
        self.bot_name = bot_name

    @abstractmethod
    def parse(self, body: str) -> Options:
        """The start command's options; raises `GameInputError` saying what to fix."""

    @abstractmethod
    def start(self, msg: IncomingMessage, options: Options, now: float) -> list[OutgoingMessage]:
        """Open a game in a chat where none runs."""

    @abstractmethod
    def answer(self, msg: IncomingMessage, game: G, line: str, explicit: bool, now: float) -> list[OutgoingMessage]:
        """Judge ``line`` (normalised); an answer that was not ``explicit`` (/a, a reply to the bot)
        and is no move of this game gets no reply."""

    def pick(self, game: G, lines: list[str]) -> str | None:
        """Of an answer that holds several lines (a couplet), the one this game asks for; None when
        it cannot tell (then the player is asked for one line). By default a game takes one line only."""
        return None

    @abstractmethod
    def hint(self, msg: IncomingMessage, game: G) -> list[OutgoingMessage]:
        """/hint."""

    @abstractmethod
    def tick(self, platform: str, chat_id: str, game: G, now: float) -> list[OutgoingMessage]:
        """What the clock says for this game now (it was due): a warning, a hint, the end."""

    @abstractmethod
    def state_text(self, game: G, locale: str | None, now: float) -> str:
        """Where the game stands (answered to a start command while it runs)."""

    @abstractmethod
    def over_text(self, game: G, locale: str | None) -> str:
        """The game's last word: the scores, or the answer nobody found."""

    def stop_text(self, game: G, locale: str | None) -> str:
        """What ``/stop`` says: the game's last word, and whatever is still hidden (an open question's answer)."""
        return self.over_text(game, locale)

    def end(self, platform: str, chat_id: str, game: G, now: float) -> None:
        """Add the scores to the chat's leaderboards and remove the game."""
        self.store.record(platform, chat_id, game, now)
        self.store.finish(platform, chat_id)
