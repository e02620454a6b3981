"""飞花令 on Discord: slash /fhl and /a, prefix !fhl and !a, plain lines and the game clock, through
the fake Discord and the real discord.py client (no queue needed: games run in the bot).

No wall-clock deadline can pass mid-test: the rounds last longer than any test may run, and the
round that must end by the clock is made due by moving its deadline in the game's stored state
(as `FakeDiscord.expire` ages a token), after which the bot's own clock ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest
from support.fake_discord import FakeDiscord, settle_discord_tasks, snowflake
from support.settings import make_bot_settings, make_discord_settings

from bots.core.chat import ChatCore
from bots.discord import run_discord
from worker.contract.service import PoemService

pytestmark = pytest.mark.timeout(90)


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, core: ChatCore) -> AsyncIterator[None]:
    settings = make_discord_settings(token=fake.token, api_base=fake.api_base, gateway_url=fake.gateway_url)
    task = asyncio.create_task(run_discord(core, settings, None))
    try:
        await fake.wait_for(lambda: fake.connected or task.done())
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await settle_discord_tasks()


def end_round_now(core: ChatCore, chat_id: str) -> None:
    """Make the running round's deadline pass: the next tick of the bot's game clock ends it."""
    store = core.games.store
    with store.locked("discord", chat_id):
        game = store.load("discord", chat_id)
        assert game is not None
        game.deadline = time.time() - 1
        store.save("discord", chat_id, game, next_tick=0)


async def test_slash_and_prefix_game_with_the_clock(fake: FakeDiscord, service: PoemService) -> None:
    # Rounds, questions and guesses that outlast the test: only the test decides when one ends.
    settings = make_bot_settings(game_timeout_s=600, game_warning_s=15, jieju_timeout_s=600, cai_timeout_s=3600,
                                 game_chat_limit=100)
    core = ChatCore(service, settings)
    other = snowflake()
    async with running(fake, core):
        assert {"fhl", "jieju", "cai", "xu", "a", "hint", "stop", "rank"} <= {c["name"] for c in fake.commands}
        start = await fake.slash("fhl", {"token": "月", "mode": "古法"})
        [started] = await fake.wait_for(lambda: fake.followups(start["token"]))
        assert started["content"].startswith("🌸 飞花令开局！令字「月」· 古法")
        answer = await fake.slash("a", {"line": "月落乌啼霜满天"})
        [ok] = await fake.wait_for(lambda: fake.followups(answer["token"]))
        assert ok["content"].startswith("✅ 月落乌啼霜满天 —— 唐·张继《枫桥夜泊》")
        await fake.send_message("!a 明月松间照", user_id=other)
        await fake.send_message("明月几时还有", user_id=other)  # plain text: the bot reads the channel
        posted = await fake.wait_for(lambda: (m := fake.channel_messages()) and len(m) >= 2 and m)
        # One channel's messages are judged in the order they were sent.
        assert posted[0]["content"].startswith("✅ 明月松间照")
        assert posted[1]["content"] == "❌ 没背熟：原句是「明月几时有」—— 宋·苏轼《水调歌头》"
        end_round_now(core, fake.channel_id)
        over = await fake.wait_for(lambda: [m for m in fake.channel_messages() if m["content"].startswith("⌛")])
        assert "共 2 句" in over[0]["content"]
        await fake.send_message("!fhl 花")
        await fake.wait_for(lambda: any(m["content"].startswith("🌸") for m in fake.channel_messages()))
        await fake.send_message("!stop")
        await fake.wait_for(lambda: any(m["content"].startswith("🏁") for m in fake.channel_messages()))
        quiz = await fake.slash("jieju", {"direction": "下", "questions": 1})
        [question] = await fake.wait_for(lambda: fake.followups(quiz["token"]))
        assert question["content"].startswith("📜 接句开始！共 1 题") and "第 1/1 题" in question["content"]
        prompt = question["content"].split("「", 1)[1].split("」", 1)[0]
        record = core.games.index.lookup(prompt)
        assert record is not None
        answer = core.games.index.neighbour(record, 1)
        await fake.send_message(f"!a {answer[:-1]}{'月' if answer[-1] != '月' else '日'}", user_id=other)  # type: ignore[index]
        # A near miss: its mark at once, its words as a reply or, the channel being busy, on the verdict board.
        await fake.wait_for(lambda: any("差一点！再想想。" in m["content"] for m in fake.channel_messages())
                            or any("差一点！再想想。" in content for _id, content in fake.edits))
        assert any(r.emoji == "🤔" for r in fake.reactions)
        await fake.send_message(f"!a {answer}", user_id=other)
        done = await fake.wait_for(lambda: [m for m in fake.channel_messages() if "🏁 接句结束" in m["content"]])
        assert f"答对了：{answer}" in done[0]["content"] and record.source in done[0]["content"]
        await fake.send_message("!cai 5")
        await fake.wait_for(lambda: any(m["content"].startswith("🧩 猜诗句（5 字）") for m in fake.channel_messages()))
        wrong = "床前明月光"
        game = core.games.store.load("discord", fake.channel_id)
        if game is not None and game.answer == wrong:  # type: ignore[union-attr]
            wrong = "举头望明月"
        await fake.send_message(f"!a {wrong}")
        await fake.wait_for(lambda: any(wrong in content for _id, content in fake.edits))  # the board, edited
        # and a short line in the channel, so the guess is seen to land
        await fake.wait_for(lambda: any(m["content"].startswith(f"🧩 第 1 猜：{wrong}") for m in fake.channel_messages())
                            or any(f"🧩 第 1 猜：{wrong}" in content for _id, content in fake.edits))  # or on the verdict board
        edits = len(fake.edits)
        second = "明月松间照" if wrong != "明月松间照" else "春眠不觉晓"
        guess = await fake.slash("a", {"line": second})
        await fake.wait_for(lambda: len(fake.edits) > edits)  # a slash guess edits the same board
        [ack] = await fake.wait_for(lambda: fake.followups(guess["token"]))  # its answer: the guess landed
        assert ack["content"].startswith(f"🧩 第 2 猜：{second}")
        boards = [m for m in fake.channel_messages() if m["content"].startswith("🧩 猜诗句（5 字）")]
        assert len(boards) == 1  # one board message for the whole game
        await fake.send_message("!stop")
        await fake.wait_for(lambda: any(m["content"].startswith("🧩") and "答案是" in m["content"]
                                        for m in fake.channel_messages()))
        rank = await fake.slash("rank")
        [board] = await fake.wait_for(lambda: fake.followups(rank["token"]))
    assert board["content"].startswith("🏆")
    for m in fake.channel_messages():
        assert m["allowed_mentions"]["parse"] == []  # nothing a player typed can ping anyone
