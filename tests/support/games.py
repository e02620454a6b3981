"""A pretend group chat for game tests: players say things, the real chat core answers."""

from __future__ import annotations

import time
from collections.abc import Iterable

from bots.core.chat import ChatCore
from bots.core.models import IncomingMessage, OutgoingMessage

PLAYERS = {"u1": "张三", "u2": "李四", "u3": "王五"}


class Group:
    """A group chat: players say things, the core answers."""

    def __init__(self, core: ChatCore, chat: str = "g1", platform: str = "telegram", group: bool = True) -> None:
        self.core, self.chat, self.platform, self.group = core, chat, platform, group
        self.count = 0

    async def say(self, user: str, text: str, *, reply_to_bot: bool = False) -> list[OutgoingMessage]:
        self.count += 1
        msg = IncomingMessage(self.platform, self.chat, user, text, message_id=str(self.count), is_group=self.group,
                              user_name=PLAYERS.get(user, user), reply_to_bot=reply_to_bot)
        return await self.core.handle(msg)

    async def one(self, user: str, text: str, **kw: bool) -> str:
        out = await self.say(user, text, **kw)
        assert len(out) == 1, out
        return out[0].text

    async def tick(self, after_s: float = 0.0) -> list[str]:
        return [o.text for o in await self.core.games.tick(self.platform, time.time() + after_s)]


def move_deadline(core: ChatCore, platform: str, chat_id: str, seconds_left: float) -> None:
    """Put the running game's deadline ``seconds_left`` from now (negative: past) and have the game
    clock look at it on its next tick. Game tests run rounds that outlast them and decide here when
    a round warns or ends, so the machine's speed never ends a round mid-test."""
    store = core.games.store
    with store.locked(platform, chat_id):
        game = store.load(platform, chat_id)
        assert game is not None, f"no game running in {platform}:{chat_id}"
        game.deadline = time.time() + seconds_left
        store.save(platform, chat_id, game, next_tick=0)


MADE_UP = "甲乙丙丁戊己庚辛壬癸"
"""Characters no line of verse strings together: the made-up answers of a burst."""


def burst_answers(real_lines: Iterable[str], count: int) -> list[str]:
    """``count`` 飞花令 answers for 月: the real lines in turn, every fifth one made up, every sixth a
    repeat of an earlier real one (the verdict tests and benchmarks/game_burst.py play the same mix)."""
    real = iter(real_lines)
    answers: list[str] = []
    for i in range(count):
        if i % 5 == 4:
            answers.append(f"月{MADE_UP[i % 10]}{MADE_UP[i // 10 % 10]}不是诗句")
        elif i % 6 == 5:
            answers.append(next(a for a in reversed(answers) if not a.endswith("不是诗句")))
        else:
            answers.append(next(real))
    return answers
