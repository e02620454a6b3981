"""What every game's rules share: state kept as JSON, the standings, the error for bad options.

Pure like the games' own rule modules (`feihua`, `jieju`, `caishi`): no Redis, no index, no platform.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any, Protocol, Self

from poetcore.text.chars import is_han
from poetcore.text.normalize import normalize_line

__all__ = ["BOT_PLAYER", "MAX_ANSWER", "MIN_ANSWER", "GameInputError", "JsonState", "Scored", "answer_lines",
           "looks_like_line", "standings"]

MIN_ANSWER, MAX_ANSWER = 4, 12
"""An answer is one line: Han characters, this many once normalised."""

BOT_PLAYER = "bot"
"""The bot's own player id (飞花令 versus mode): it scores in the game, never on the leaderboards."""


class GameInputError(ValueError):
    """Bad options for starting a game: a catalogue key plus its parameters."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key, self.params = key, params


class JsonState:
    """``to_dict`` / ``from_dict`` for a game dataclass; keys a newer bot wrote and this one lacks are ignored."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        fields = cls.__dataclass_fields__  # type: ignore[attr-defined]
        return cls(**{k: v for k, v in data.items() if k in fields})


_BREAKS = r"[\s，。！？；：、,.!?;:「」『』“”\"'《》…—·]+"


def looks_like_line(text: str) -> bool:
    """Plain chat that could be an answer: nothing but Han characters, punctuation and spaces, making
    one line of 4-12 Han characters, or a few such lines (a couplet: `answer_lines`)."""
    stripped = re.sub(_BREAKS, "", text)
    if not stripped or not all(is_han(ch) for ch in stripped):
        return False
    lines = answer_lines(text)
    return len(lines) <= 4 and all(MIN_ANSWER <= len(line) <= MAX_ANSWER for line in lines)


def answer_lines(text: str) -> list[str]:
    """The lines an answer holds, normalised: one, or several when punctuation or spaces part it into
    pieces of at least ``MIN_ANSWER`` characters each (``国破山河在，城春草木深``: a couplet). Shorter
    pieces stay one line (``争渡，争渡``, ``举头 望明月``)."""
    pieces = [line for part in re.split(_BREAKS, text) if (line := normalize_line(part))]
    if len(pieces) > 1 and all(len(p) >= MIN_ANSWER for p in pieces):
        return pieces
    return [normalize_line(text)]


class Scored(Protocol):
    """A game with players: user id -> {"name", "score", "lines"}."""

    players: dict[str, dict[str, Any]]


def standings(game: Scored) -> list[tuple[str, str, int, int]]:
    """(player id, name, score, lines), best first (ties: more lines, then name)."""
    rows = [(pid, p["name"], int(p["score"]), int(p["lines"])) for pid, p in game.players.items()]
    return sorted(rows, key=lambda r: (-r[2], -r[3], r[1]))
