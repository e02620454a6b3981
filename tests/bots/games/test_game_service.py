"""The games service's shape: one referee per game kind, and the parser's game commands are its own."""

from __future__ import annotations

from bots.core.chat import ChatCore
from bots.core.commands import COMMAND_ALIASES, GAME_COMMAND_NAMES
from bots.core.games.caishi import CaishiGame
from bots.core.games.feihua import FeihuaGame
from bots.core.games.jieju import JiejuGame


def test_the_service_answers_exactly_the_parsers_game_commands(core: ChatCore) -> None:
    assert core.games.commands == GAME_COMMAND_NAMES
    assert COMMAND_ALIASES.keys() >= GAME_COMMAND_NAMES


def test_every_game_kind_starts_with_its_own_command(core: ChatCore) -> None:
    kinds = {state.kind for state in (FeihuaGame, JiejuGame, CaishiGame)}  # the dataclass defaults
    assert kinds == {"fhl", "jieju", "cai"} and kinds <= core.games.commands
