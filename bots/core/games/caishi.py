"""猜诗句 rules: a Wordle of verse. Pure functions over a game state, no I/O.

The bot picks a famous 5- or 7-character line; players guess real lines of that length. Each guess
gets a row per character (🟩 right place, 🟨 elsewhere in the line, ⬜ absent; repeated characters
are counted as in Wordle) and a row for the tones (🟩 same 平/仄 as the answer's character there).
The chat shares ``MAX_GUESSES`` guesses; whoever guesses the line wins.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bots.core.games.rules import GameInputError, JsonState
from poetcore.lines.index import PUZZLE_POOLS
from poetcore.prosody.rhymes import RhymeTable

__all__ = ["COLLECTIONS", "MAX_GUESSES", "MAX_RANK", "CaishiGame", "char_marks", "guess", "parse_cai", "tone_marks", "win"]

MAX_GUESSES = 10
GREEN, YELLOW, GREY = "🟩", "🟨", "⬜"
MAX_RANK, COLLECTIONS = PUZZLE_POOLS["蒙学"]
"""Where the answers come from: lines most players have met (the 蒙学 pool of
`poetcore.lines.index.PUZZLE_POOLS`: the most famous lines, the school canon first)."""
_LENGTHS = {"": (5, 7), "5": (5,), "五": (5,), "五言": (5,), "7": (7,), "七": (7,), "七言": (7,)}


def parse_cai(body: str) -> tuple[int, ...]:
    """``/cai [5|7]`` → the line lengths the answer may have; raises ``GameInputError`` otherwise."""
    word = body.strip()
    if word not in _LENGTHS:
        raise GameInputError("cai_bad_option")
    return _LENGTHS[word]


@dataclass
class CaishiGame(JsonState):
    starter: str
    starter_name: str
    answer: str
    source: str
    line_id: int
    deadline: float
    locale: str | None = None
    kind: str = "cai"
    guesses: list[dict[str, str]] = field(default_factory=list)  # line, chars, tones, name
    players: dict[str, dict[str, Any]] = field(default_factory=dict)
    board: str = ""  # the key the board message's id is stored under (to edit it)

    @property
    def left(self) -> int:
        return MAX_GUESSES - len(self.guesses)


def char_marks(guess: str, answer: str) -> str:
    """Wordle marks: greens first, then yellows up to the count of each character left over."""
    marks = [GREY] * len(guess)
    spare: Counter[str] = Counter()
    for i, (g, a) in enumerate(zip(guess, answer, strict=True)):
        if g == a:
            marks[i] = GREEN
        else:
            spare[a] += 1
    for i, g in enumerate(guess):
        if marks[i] != GREEN and spare[g] > 0:
            marks[i] = YELLOW
            spare[g] -= 1
    return "".join(marks)


def tone_marks(guess: str, answer: str, table: RhymeTable | None = None) -> str:
    """🟩 where the guess's character can take the tone of the answer's character there."""
    table = table or RhymeTable.default()
    return "".join(GREEN if table.tones(g) & table.tones(a) else GREY for g, a in zip(guess, answer, strict=True))


def guess(game: CaishiGame, line: str, name: str) -> None:
    """Put a guess on the board: its character and tone marks, and who made it."""
    game.guesses.append({"line": line, "chars": char_marks(line, game.answer), "tones": tone_marks(line, game.answer),
                         "name": name})


def win(game: CaishiGame, player: str, name: str) -> int:
    """The line was guessed: one point, plus one per guess left; returns the points."""
    points = 1 + game.left
    entry = game.players.setdefault(player, {"name": name, "score": 0, "lines": 0})
    entry["score"] += points
    entry["lines"] += 1
    return points
