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

from bots.core.games.state import JsonState
from poetcore.rhymes import RhymeTable, Tone

__all__ = ["MAX_GUESSES", "CaishiGame", "char_marks", "tone_marks"]

MAX_GUESSES = 10
GREEN, YELLOW, GREY = "🟩", "🟨", "⬜"


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


def _tone(ch: str, table: RhymeTable) -> frozenset[Tone]:
    return table.tones(ch)


def tone_marks(guess: str, answer: str, table: RhymeTable | None = None) -> str:
    """🟩 where the guess's character can take the tone of the answer's character there."""
    table = table or RhymeTable.default()
    return "".join(GREEN if _tone(g, table) & _tone(a, table) else GREY for g, a in zip(guess, answer, strict=True))
