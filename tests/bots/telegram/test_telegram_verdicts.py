"""Verdicts that keep up with a busy Telegram group, end to end: the fake Bot API (enforcing the
group's 20 messages a minute, sends and edits together), the real PTB bot, the chat core, Redis and
the built-in line index.

A burst of answers gets one reaction each, in the answers' order, and every verdict's details once
(replies while the group is quiet, then the verdict board edited in place); flood control on the
reactions is waited out with nothing lost; and in 对战 the turn's clock starts when the bot's line is
visible, not when it was judged. Nothing here depends on the machine's speed: the tests wait for
what the group sees, and the clock test holds the bot's message at the fake for as long as it needs.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.fake_telegram import FakeTelegram, until
from support.games import burst_answers
from support.settings import make_bot_settings

from bots.core.chat import ChatCore
from bots.core.games.feihua import FeihuaGame
from bots.telegram import TelegramBot
from bots.telegram.sender import MARKS
from worker.contract.service import PoemService

pytestmark = pytest.mark.timeout(120)

GROUP = -100888
PLAYERS = {7101: "张三", 7102: "李四", 7103: "王五"}


@contextlib.asynccontextmanager
async def running(fake: FakeTelegram, service: PoemService, **settings: Any) -> AsyncIterator[TelegramBot]:
    """The bot, with rounds that outlast any test."""
    config = make_bot_settings(telegram_token=fake.token, telegram_base_url=fake.base_url, telegram_poll_timeout_s=1,
                               game_timeout_s=600, game_warning_s=15, **settings)
    bot = TelegramBot(ChatCore(service, config, bot_username="poetbot"), config)
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def burst(bot: TelegramBot, count: int) -> list[str]:
    """``count`` answers: real lines with 月, every fifth one made up, every sixth a repeat."""
    return burst_answers((r.text for r in bot.core.games.index.with_char("月", lengths=(5, 7), limit=count * 2)),
                         count)


async def play(fake: FakeTelegram, answers: list[str]) -> list[int]:
    """The players send every answer at once, in turn; returns their messages' ids."""
    ids = []
    for i, answer in enumerate(answers):
        user = list(PLAYERS)[i % len(PLAYERS)]
        ids.append(await fake.user_says(GROUP, f"/a {answer}", user_id=user, username=PLAYERS[user]))
    return ids


def details(fake: FakeTelegram, answers: list[str]) -> dict[str, int]:
    """How many verdict lines the group can read now name each answer (replies, and boards as edited)."""
    lines = [line for m in fake.chat(GROUP) for line in m.text.split("\n")]
    return {a: sum(a in line for line in lines) for a in answers}


def all_shown(fake: FakeTelegram, answers: list[str]) -> bool:
    return details(fake, answers) == {a: answers.count(a) for a in answers}


def expected_marks(answers: list[str]) -> list[set[str]]:
    return [{MARKS["wrong"], MARKS["near"]} if a.endswith("不是诗句") else
            {MARKS["repeat"]} if a in answers[:i] else {MARKS["right"]} for i, a in enumerate(answers)]


async def test_a_burst_gets_one_mark_each_in_order_and_every_verdict_on_the_board(
    fake_telegram: FakeTelegram, service: PoemService
) -> None:
    fake = fake_telegram
    fake.group_limit, fake.global_limit = (20, 60.0), (30, 1.0)  # Telegram's, as the fake enforces them
    async with running(fake, service, game_flush_s=1.0) as bot:
        await fake.user_says(GROUP, "/fhl 月", user_id=7101, username="张三")
        await fake.wait_for(lambda f: len(f.chat(GROUP)) == 1)
        answers = burst(bot, 30)
        ids = await play(fake, answers)
        await fake.wait_for(lambda f: all(f.reaction(GROUP, m) for m in ids), 60)
        await fake.wait_for(lambda f: all_shown(f, answers), 60)
    marked = [r for r in fake.reactions if r.chat_id == GROUP]
    assert [r.message_id for r in marked] == ids  # one mark per answer, set in the answers' order
    assert all(r.emoji in want for r, want in zip(marked, expected_marks(answers), strict=True))
    chat = fake.chat(GROUP)
    replies = [m for m in chat if m.reply_to in ids]
    boards = [m for m in chat if m.reply_to is None and len(m.versions) > 1]
    assert replies and boards  # a quiet start got replies, the rest went on a board edited in place
    on_boards = [a for a in answers if any(a in m.text for m in boards)]
    assert len(replies) + len(on_boards) >= len(answers) and fake.flood_refusals == 0  # within the group's limit


async def test_flood_control_on_marks_is_waited_out_and_nothing_is_lost(
    fake_telegram: FakeTelegram, service: PoemService
) -> None:
    fake = fake_telegram
    async with running(fake, service) as bot:
        await fake.user_says(GROUP, "/fhl 月", user_id=7101, username="张三")
        await fake.wait_for(lambda f: len(f.chat(GROUP)) == 1)
        fake.flood("setMessageReaction", times=2, retry_after=1)  # "Too Many Requests: retry after 1", twice
        answers = burst(bot, 6)
        ids = await play(fake, answers)
        await fake.wait_for(lambda f: all(f.reaction(GROUP, m) for m in ids), 60)
        await fake.wait_for(lambda f: all_shown(f, answers), 60)
    assert fake.flood_refusals == 2
    assert len(fake.method_calls("setMessageReaction")) == len(ids) + 2  # each refused one made again
    assert [r.message_id for r in fake.reactions if r.chat_id == GROUP] == ids  # still one each, in order


async def test_the_versus_clock_starts_when_the_bots_line_is_visible(
    fake_telegram: FakeTelegram, service: PoemService
) -> None:
    fake = fake_telegram
    async with running(fake, service) as bot:
        store = bot.core.games.store

        def game() -> FeihuaGame:
            state = store.load("telegram", str(GROUP))
            assert isinstance(state, FeihuaGame)
            return state

        await fake.user_says(GROUP, "/fhl 月 对战 简单 限时=20", user_id=7101, username="张三")
        await fake.wait_for(lambda f: len(f.chat(GROUP)) == 1)
        fake.hold("sendMessage")  # the bot's answer reaches Telegram, but is not in the chat yet
        answer = await fake.user_says(GROUP, "/a 床前明月光", user_id=7101, username="张三")
        await fake.wait_for(lambda f: f.held("sendMessage") == 1)
        judged = game().deadline  # the turn as judged: 20 s from the move
        shown_at = time.time()
        await fake.release("sendMessage")
        await fake.wait_for(lambda f: len(f.chat(GROUP)) == 2)
        moved = await until(lambda: game().deadline != judged and game(), what="the clock to count from the bot's line")
    reply = fake.chat(GROUP)[1]
    assert reply.reply_to == answer and "🤖" in reply.text and fake.reaction(GROUP, answer) == MARKS["right"]
    assert moved.deadline >= shown_at + moved.timeout_s > judged  # the player's 20 s start once they can read it
