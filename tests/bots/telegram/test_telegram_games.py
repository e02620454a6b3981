"""飞花令 in a Telegram group, end to end: the fake Bot API, the real PTB bot, the real chat core,
Redis and the built-in line index. Three players, every kind of verdict, 古法, a reply to the bot,
the clock, the scoreboard and the leaderboard; then a bot restart in the middle of a game.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_telegram import FakeTelegram
from support.games import move_deadline
from support.settings import make_bot_settings

from bots.core.chat import ChatCore
from bots.telegram import TelegramBot
from worker.contract.service import PoemService

pytestmark = pytest.mark.timeout(120)

GROUP = -100777
PLAYERS = {7001: "张三", 7002: "李四", 7003: "王五"}


def settings_for(fake: FakeTelegram, **kw: Any) -> Any:
    """Rounds that outlast any test (a test ends them with `move_deadline`) and no flood holding."""
    base = {"game_timeout_s": 600, "game_warning_s": 15, "jieju_timeout_s": 600, "game_chat_limit": 100}
    return make_bot_settings(telegram_token=fake.token, telegram_base_url=fake.base_url, telegram_poll_timeout_s=1,
                             **{**base, **kw})


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, service: PoemService) -> AsyncIterator[TelegramBot]:
    core = ChatCore(service, settings_for(fake_telegram), bot_username="poetbot")
    running = TelegramBot(core, settings_for(fake_telegram))
    await running.start()
    yield running
    await running.stop()


class Table:
    """The group as its players see it: they say lines, then read the bot's next message."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake
        self.transcript: list[str] = []

    async def say(self, user: int, text: str, reply_to: int | None = None, expect: int = 1) -> list[str]:
        before = len(self.fake.chat(GROUP))
        await self.fake.user_says(GROUP, text, user_id=user, username=PLAYERS[user], reply_to=reply_to)
        self.transcript.append(f"{PLAYERS[user]}: {text}")
        await self.fake.wait_for(lambda f: len(f.chat(GROUP)) >= before + expect, 20)
        new = [m.text for m in self.fake.chat(GROUP)[before:]]
        self.transcript += [f"bot: {m}" for m in new]
        return new

    async def wait_bot(self, predicate: Any, timeout: float = 20) -> str:
        await self.fake.wait_for(lambda f: any(predicate(m.text) for m in f.chat(GROUP)), timeout)
        text = next(m.text for m in reversed(self.fake.chat(GROUP)) if predicate(m.text))
        self.transcript.append(f"bot: {text}")
        return text


async def test_a_group_game_from_start_to_leaderboard(bot: TelegramBot, fake_telegram: FakeTelegram) -> None:
    table = Table(fake_telegram)
    [start] = await table.say(7001, "/fhl 月")
    assert start.startswith("🌸 飞花令开局！令字「月」") and "或直接回复我的消息" in start
    [ok] = await table.say(7001, "/a 床前明月光")
    assert ok == "✅ 床前明月光 —— 唐·李白《静夜思》 · 张三 +2 分（共 2 分）"
    # A reply to the bot's message is an answer, in traditional characters too.
    started_id = fake_telegram.chat(GROUP)[0].message_id
    [ok2] = await table.say(7002, "舉頭望明月", reply_to=started_id)
    assert ok2.startswith("✅ 举头望明月 —— 唐·李白《静夜思》 · 李四")
    assert (await table.say(7003, "/a 举头望明月"))[0] == "❌ 「举头望明月」已经有人用过（李四）。"
    assert (await table.say(7003, "/a 明月几时还有"))[0] == "❌ 没背熟：原句是「明月几时有」—— 宋·苏轼《水调歌头》"
    assert (await table.say(7003, "/a 月亮月亮你真圆"))[0] == "❌ 「月亮月亮你真圆」不在诗库里。"
    assert (await table.say(7003, "/a 春眠不觉晓"))[0] == "❌ 「春眠不觉晓」里没有令字「月」。"
    [ok3] = await table.say(7003, "/a 明月松间照")
    assert ok3.startswith("✅ 明月松间照 —— 唐·王维《山居秋暝》 · 王五")
    # Nobody answers: the warning, then the scoreboard, each from the bot's own game clock.
    move_deadline(bot.core, "telegram", str(GROUP), 10)
    warning = await table.wait_bot(lambda m: m.startswith("⏳"), 20)
    assert "还剩" in warning
    move_deadline(bot.core, "telegram", str(GROUP), -1)
    over = await table.wait_bot(lambda m: m.startswith("⌛ 时间到"), 20)
    assert "共 3 句" in over and "🥇 张三：2 分（1 句）" in over
    rank = (await table.say(7002, "/rank"))[0]
    assert rank.startswith("🏆 本群诗词游戏排行") and rank.count("张三") == 2
    # Classic mode: the 令字 moves one place per line.
    await table.say(7002, "/fhl 月 古法")
    assert (await table.say(7002, "/a 明月松间照"))[0] == "❌ 古法：这一句的「月」要在第 1 字。"
    assert (await table.say(7002, "/a 月落乌啼霜满天"))[0].endswith("下一句：「月」在第 2 字")
    await table.say(7002, "/stop")
    overs = [m.text for m in fake_telegram.chat(GROUP) if m.text.startswith(("⌛", "🏁"))]
    assert len(overs) == 2  # each round ended exactly once
    path = os.environ.get("FHL_TRANSCRIPT")
    if path:  # for the issue note: the real transcript of this game
        Path(path).write_text("\n".join(table.transcript) + "\n", encoding="utf-8")


async def test_a_bot_restart_mid_game_keeps_the_game_and_its_clock(
    fake_telegram: FakeTelegram, service: PoemService
) -> None:
    settings = settings_for(fake_telegram)
    first = TelegramBot(ChatCore(service, settings, bot_username="poetbot"), settings)
    await first.start()
    table = Table(fake_telegram)
    try:
        await table.say(7001, "/fhl 花 限时=300")
        await table.say(7001, "/a 花落知多少")
    finally:
        await first.stop()
    second = TelegramBot(ChatCore(service, settings, bot_username="poetbot"), settings)
    await second.start()
    try:
        [state] = await table.say(7002, "/fhl")
        assert "令字「花」" in state and "已接 1 句" in state
        assert (await table.say(7002, "/a 花落知多少"))[0].startswith("❌ 「花落知多少」已经有人用过（张三）")
        move_deadline(second.core, "telegram", str(GROUP), -1)  # the restarted bot's clock ends the round
        over = await table.wait_bot(lambda m: m.startswith("⌛ 时间到"), 30)
        assert "共 1 句" in over
    finally:
        await second.stop()


async def test_a_jieju_round_in_the_group(fake_telegram: FakeTelegram, service: PoemService) -> None:
    """接句: a correct answer, a near miss, a hint and a timeout, in a Telegram group."""
    import re

    settings = settings_for(fake_telegram)
    core = ChatCore(service, settings, bot_username="poetbot")
    bot = TelegramBot(core, settings)
    await bot.start()
    table = Table(fake_telegram)

    def wanted(text: str) -> str:
        record = core.games.index.lookup(re.search(r"题：「(.+?)」", text)[1])  # type: ignore[index]
        assert record is not None
        return core.games.index.neighbour(record, 1) or ""

    try:
        [start] = await table.say(7001, "/jieju 题数=2")
        answer = wanted(start)
        near = answer[:-1] + ("月" if answer[-1] != "月" else "日")
        assert (await table.say(7002, f"/a {near}"))[0] == "差一点！再想想。"
        assert (await table.say(7003, "/hint"))[0].startswith("💡 提示（1/3）：出自")
        [correct] = await table.say(7002, f"/a {answer}")
        assert correct.startswith(f"✅ 李四 答对了：{answer}") and "+2 分" in correct and "第 2/2 题" in correct
        move_deadline(core, "telegram", str(GROUP), -1)  # nobody knows the second: its time runs out
        over = await table.wait_bot(lambda m: m.startswith("⌛ 时间到！答案是"), 20)
        assert f"答案是：{wanted(correct)}" in over and "🏁 接句结束（共 2 题）" in over and "🥇 李四：2 分" in over
    finally:
        await bot.stop()
    path = os.environ.get("JIEJU_TRANSCRIPT")
    if path:
        Path(path).write_text("\n".join(table.transcript) + "\n", encoding="utf-8")


async def test_a_caishi_game_edits_one_board_to_the_win(fake_telegram: FakeTelegram, service: PoemService) -> None:
    """猜诗句: a refused non-line, wrong guesses on one edited board, then the win."""
    settings = settings_for(fake_telegram)
    core = ChatCore(service, settings, bot_username="poetbot")
    bot = TelegramBot(core, settings)
    await bot.start()
    table = Table(fake_telegram)
    try:
        intro, board = await table.say(7001, "/cai 7", expect=2)
        assert intro.startswith("🧩 猜诗句：一句 7 字的名句") and board.startswith("🧩 猜诗句（7 字）")
        game = core.games.store.load("telegram", str(GROUP))
        assert game is not None
        answer = game.answer  # type: ignore[union-attr]
        assert (await table.say(7002, "/a 天地玄黄宇宙洪"))[0] == "❌ 「天地玄黄宇宙洪」不在诗库里，不算次数。"
        guesses = [r.text for r in core.games.index.with_char("月", lengths=(7,), limit=10) if r.text != answer][:2]
        count = len(fake_telegram.chat(GROUP))
        for i, guess in enumerate(guesses):
            await fake_telegram.user_says(GROUP, f"/a {guess}", user_id=7002 + i, username=PLAYERS[7002 + i])
            await fake_telegram.wait_for(lambda f, g=guess: g in f.chat(GROUP)[1].text, 20)
            # The board is edited up where it was sent; a short reply shows the guess landed.
            await fake_telegram.wait_for(lambda f, n=i + 1: len(f.chat(GROUP)) == count + n, 20)
            ack = fake_telegram.chat(GROUP)[-1]
            assert ack.text.startswith(f"🧩 第 {i + 1} 猜：{guess}　") and ack.reply_to is not None
        assert len(fake_telegram.chat(GROUP)) == count + len(guesses)  # one board, edited, and a line per guess
        [won] = await table.say(7003, answer, expect=1)
        assert won.startswith(f"🎉 王五 猜中了：{answer}")
        board_msg = fake_telegram.chat(GROUP)[1]
        assert "🟩" * 7 in board_msg.text and len(board_msg.history) >= 3
    finally:
        await bot.stop()
    path = os.environ.get("CAI_TRANSCRIPT")
    if path:
        Path(path).write_text("\n".join(table.transcript) + "\n\nboard:\n" + board_msg.text + "\n", encoding="utf-8")
