"""接句 rules: the bot shows a line of a famous poem, the chat answers with the next (or previous) one.

Pure functions over a game state, no I/O: the service picks questions from the line index and
keeps the state in Redis. A round is ``total`` questions; each question has its own clock, hints
come on that clock or with /hint, and every hint lowers what the question is worth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from rapidfuzz.distance import Levenshtein

from bots.core.games.rules import GameInputError, JsonState
from poetcore.lines.index import PUZZLE_POOLS
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.text.normalize import normalize_line
from poetcore.text.variants import loose_key

__all__ = ["DEFAULT_QUESTIONS", "FULL_POINTS", "LEVEL_POOLS", "MAX_HINTS", "JiejuGame", "JiejuOptions",
           "Outcome", "judge_answer", "parse_jieju", "score", "tone_pattern"]

LEVEL_POOLS: dict[str, tuple[int | None, frozenset[str] | None]] = PUZZLE_POOLS
"""Where each level's questions come from: (the most famous lines only, up to this line-fame rank; these
collections): `poetcore.lines.index.PUZZLE_POOLS`."""
MAX_HINTS = 3  # author and title, the first character, the 平仄 pattern
FULL_POINTS = 3
DEFAULT_QUESTIONS = 5
_LEVEL_WORDS = {"蒙学": "蒙学", "easy": "蒙学", "常见": "常见", "medium": "常见", "全库": "全库", "hard": "全库"}

Outcome = Literal["correct", "near", "wrong"]


@dataclass(frozen=True)
class JiejuOptions:
    previous: bool = False  # /jieju 上: answer with the line before
    level: str = "蒙学"
    questions: int = DEFAULT_QUESTIONS


def parse_jieju(body: str) -> JiejuOptions:
    """``/jieju [上|下] [蒙学|常见|全库] [题数=5]``."""
    previous, level, questions = False, "蒙学", DEFAULT_QUESTIONS
    for word in body.replace("，", " ").split():
        low = word.lower()
        if word in ("上", "上句", "前"):
            previous = True
        elif word in ("下", "下句", "后"):
            previous = False
        elif low in _LEVEL_WORDS:
            level = _LEVEL_WORDS[low]
        elif word.startswith(("题数=", "题=", "n=")) and word.split("=", 1)[1].isdigit():
            questions = int(word.split("=", 1)[1])
            if not 1 <= questions <= 20:
                raise GameInputError("jj_bad_count", min=1, max=20)
        else:
            raise GameInputError("jj_bad_option", option=word)
    return JiejuOptions(previous, level, questions)


@dataclass
class JiejuGame(JsonState):
    starter: str
    starter_name: str
    total: int
    timeout_s: int
    level: str = "蒙学"
    previous: bool = False
    locale: str | None = None
    kind: str = "jieju"
    asked: int = 0  # questions asked so far (the current one included)
    prompt: str = ""  # the line shown
    answer: str = ""  # the line wanted
    source: str = ""
    poem_line_ids: list[int] = field(default_factory=list)  # asked already, never twice in a round
    hints: int = 0  # hints given on the current question
    asked_at: float = 0.0
    deadline: float = 0.0
    players: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ask(self, prompt: str, answer: str, source: str, line_id: int, now: float) -> None:
        self.asked += 1
        self.prompt, self.answer, self.source = prompt, answer, source
        self.poem_line_ids.append(line_id)
        self.hints = 0
        self.asked_at, self.deadline = now, now + self.timeout_s

    @property
    def hint_at(self) -> float:
        """When the clock gives the next hint: evenly through the question's time."""
        return self.asked_at + self.timeout_s * (self.hints + 1) / (MAX_HINTS + 1)


def judge_answer(game: JiejuGame, text: str) -> Outcome:
    line, answer = loose_key(normalize_line(text)), loose_key(game.answer)  # 只/祇, 沉/沈 … are one line
    if line == answer:
        return "correct"
    if line and Levenshtein.distance(line, answer, score_cutoff=2) <= max(1, min(2, len(answer) // 4)):
        return "near"
    return "wrong"


def score(game: JiejuGame, player: str, name: str) -> int:
    """Credit the question to ``player``: full points, less one per hint given (at least one)."""
    points = max(1, FULL_POINTS - game.hints)
    entry = game.players.setdefault(player, {"name": name, "score": 0, "lines": 0})
    entry["name"] = name
    entry["score"] += points
    entry["lines"] += 1
    return points


def tone_pattern(line: str) -> str:
    """平/仄 per character (○ either, ？ unknown): the third hint."""
    table = RhymeTable.default()
    out = []
    for ch in line:
        tones = table.tones(ch)
        out.append("○" if len(tones) > 1 else "平" if Tone.PING in tones else "仄" if tones else "？")
    return "".join(out)
