"""飞花令 rules: pure functions over a game state, no I/O (the service does lookups and storage).

A game has a 令字 (one character or a two-character word). Every accepted line must contain it;
in 古法 (classic) mode the n-th accepted line has it at position n, cycling 1 → 7, so positions 6
and 7 need a seven-character line. A line is accepted when it is in the index, has the 令字 where
required, and was not used earlier in the game.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from bots.core.games.rules import MAX_ANSWER, MIN_ANSWER, GameInputError, JsonState
from poetcore.text.chars import is_han
from poetcore.text.normalize import normalize_line

__all__ = [
    "GOOD_TOKENS", "HINTED_POINTS", "LINE_POINTS", "MAX_HINTS", "FeihuaGame", "StartOptions", "Verdict", "accept",
    "judge", "line_lengths", "mask", "parse_start", "required_position",
]

LINE_POINTS, HINTED_POINTS = 2, 1
MAX_HINTS = 3
CLASSIC_CYCLE = 7
TIMEOUT_RANGE = (15, 600)
GOOD_TOKENS = "月花春风山水雨云雪江夜酒人天日秋心归"
"""令字 the bot picks when none is given: frequent in famous lines."""

VerdictKind = Literal["accepted", "too_short", "too_long", "not_found", "near_miss", "repeat", "no_token",
                      "wrong_position"]

_OPTION_RE = re.compile(r"^(限时|时限|timeout)[=＝:：]?(\d+)秒?$", re.IGNORECASE)
_CLASSIC = frozenset({"古法", "古", "classic"})
_VERSUS = frozenset({"对战", "对决", "人机", "versus", "vs"})
_EASY = frozenset({"简单", "easy"})
_HARD = frozenset({"困难", "hard"})


@dataclass(frozen=True)
class StartOptions:
    token: str | None
    classic: bool = False
    versus: bool = False
    level: str = "hard"
    timeout_s: int | None = None


def parse_start(body: str) -> StartOptions:
    """``/fhl 月 古法 对战 简单 限时=30`` → options; raises ``GameInputError`` with what to fix."""
    token: str | None = None
    classic = versus = False
    level = "hard"
    timeout: int | None = None
    for word in re.split(r"[\s，,、]+", body.strip()):
        if not word:
            continue
        low = word.lower()
        if low in _CLASSIC:
            classic = True
        elif low in _VERSUS:
            versus = True
        elif low in _EASY:
            level, versus = "easy", True
        elif low in _HARD:
            level, versus = "hard", True
        elif m := _OPTION_RE.match(word):
            timeout = int(m[2])
            if not TIMEOUT_RANGE[0] <= timeout <= TIMEOUT_RANGE[1]:
                raise GameInputError("fhl_bad_timeout", min=TIMEOUT_RANGE[0], max=TIMEOUT_RANGE[1])
        elif token is None and all(is_han(ch) for ch in word) and 1 <= len(word) <= 2:
            token = normalize_line(word) or word
        elif token is None and any(is_han(ch) for ch in word) and not any(ch in "=＝:：" for ch in word):
            raise GameInputError("fhl_bad_token", bad=word)
        else:
            raise GameInputError("fhl_bad_option", option=word)
    return StartOptions(token, classic, versus, level, timeout)


@dataclass
class FeihuaGame(JsonState):
    """The whole state of one game (kept as JSON in Redis)."""

    token: str
    starter: str
    starter_name: str
    timeout_s: int
    deadline: float
    classic: bool = False
    versus: bool = False
    level: str = "hard"
    locale: str | None = None
    turn: int = 0  # accepted lines so far (the bot's included)
    used: dict[str, str] = field(default_factory=dict)  # line -> who used it
    used_ids: list[int] = field(default_factory=list)
    players: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> name, score, lines
    hints: int = 0
    hinted: list[int] = field(default_factory=list)  # line ids given away as hints
    warned: bool = False
    kind: str = "fhl"


def required_position(game: FeihuaGame) -> int | None:
    """古法: the 1-based position the 令字 must start at in the next line; None in free mode."""
    return (game.turn % CLASSIC_CYCLE) + 1 if game.classic else None


def line_lengths(game: FeihuaGame, position: int | None) -> tuple[int, ...]:
    """Line lengths that can hold the 令字 at ``position``: past a five-character line's reach, seven."""
    return (7,) if position and position > 5 - len(game.token) + 1 else (5, 7)


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    line: str  # the normalised answer
    line_id: int | None = None  # the index line (accepted, repeat, near miss)
    source: str | None = None
    real: str | None = None  # near miss: the real line
    by: str | None = None  # repeat: who used it
    position: int | None = None  # wrong_position: where the 令字 must be

    @property
    def accepted(self) -> bool:
        return self.kind == "accepted"


def judge(game: FeihuaGame, answer: str, found: tuple[int, str] | None,
          near: tuple[int, str, str] | None = None) -> Verdict:
    """The verdict on one answer.

    ``found`` is (line id, source) when the normalised answer is in the index; ``near`` is
    (line id, real line, source) of the closest real line with the 令字, for "没背熟".
    """
    line = normalize_line(answer)
    if len(line) < MIN_ANSWER:
        return Verdict("too_short", line)
    if len(line) > MAX_ANSWER:
        return Verdict("too_long", line)
    if game.token not in line:
        return Verdict("no_token", line)
    if found is None:
        if near is not None:
            return Verdict("near_miss", line, near[0], near[2], real=near[1])
        return Verdict("not_found", line)
    line_id, source = found
    if line in game.used or line_id in game.used_ids:  # the same line, or the same corpus line written otherwise
        by = game.used.get(line) or list(game.used.values())[game.used_ids.index(line_id)]
        return Verdict("repeat", line, line_id, source, by=by)
    position = required_position(game)
    if position is not None and not line.startswith(game.token, position - 1):
        return Verdict("wrong_position", line, line_id, source, position=position)
    return Verdict("accepted", line, line_id, source)


def accept(game: FeihuaGame, verdict: Verdict, player: str, name: str, now: float) -> int:
    """Record an accepted line; returns the points it scored. The round's clock starts again."""
    assert verdict.accepted and verdict.line_id is not None
    points = HINTED_POINTS if verdict.line_id in game.hinted else LINE_POINTS
    game.turn += 1
    game.used[verdict.line] = name
    game.used_ids.append(verdict.line_id)
    entry = game.players.setdefault(player, {"name": name, "score": 0, "lines": 0})
    entry["name"] = name
    entry["score"] += points
    entry["lines"] += 1
    game.deadline = now + game.timeout_s
    game.warned = False
    return points


def mask(line: str, token: str) -> str:
    """A hint: the 令字 and the first character shown, the rest as ○."""
    keep = set(range(line.find(token), line.find(token) + len(token))) | {0}
    return "".join(ch if i in keep else "○" for i, ch in enumerate(line))
