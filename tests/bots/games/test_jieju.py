"""接句 through the chat core, against a real Redis and the built-in line index."""

from __future__ import annotations

import re

import pytest
from support.games import Group
from support.settings import make_bot_settings

from bots.core.chat import ChatCore
from bots.core.games.jieju import parse_jieju, tone_pattern
from bots.core.games.rules import GameInputError
from bots.core.settings import BotSettings


@pytest.fixture
def bot_settings() -> BotSettings:
    return make_bot_settings(game_chat_limit=100, jieju_timeout_s=40)


def asked(core: ChatCore, text: str) -> tuple[str, str]:
    """(the line shown, the line a player who knows the poem answers) from a question message."""
    prompt = re.search(r"题：「(.+?)」", text)
    assert prompt, text
    record = core.games.index.lookup(prompt[1])
    assert record is not None
    wanted = core.games.index.neighbour(record, -1 if "接上句" in text else 1)
    assert wanted
    return prompt[1], wanted


def test_options() -> None:
    assert parse_jieju("") == parse_jieju(" ") and parse_jieju("上 全库 题数=3").previous
    assert (parse_jieju("常见").level, parse_jieju("题数=3").questions) == ("常见", 3)
    for bad in ("题数=99", "明天", "🌕"):
        with pytest.raises(GameInputError):
            parse_jieju(bad)
    assert tone_pattern("白日依山尽") == "仄仄平平仄"


async def test_a_round_correct_near_hints_and_timeout(core: ChatCore) -> None:
    group = Group(core)
    start = await group.one("u1", "/jieju 题数=3")
    assert start.startswith("📜 接句开始！共 3 题 · 蒙学") and "第 1/3 题" in start
    prompt, answer = asked(core, start)
    near = answer[:-1] + ("月" if answer[-1] != "月" else "日")
    assert await group.one("u2", f"/a {near}") == "差一点！再想想。"  # nothing given away
    assert await group.one("u2", "/a 天地玄黄宇宙") == "❌ 不对。"
    assert await group.say("u2", "今天天气真好") == []  # plain chatter: silence
    record = core.games.index.lookup(prompt)
    assert record is not None
    assert await group.one("u3", "/hint") == f"💡 出自 {record.source}"
    assert await group.one("u3", "/hint") == f"💡 第一个字是「{answer[0]}」，共 {len(answer)} 字"
    assert await group.one("u3", "/hint") == f"💡 平仄：{tone_pattern(answer)}"
    assert await group.one("u3", "/hint") == "💡 这题的提示已经用完了。"
    correct = await group.one("u2", answer)  # a plain answer is enough
    assert correct.startswith(f"✅ 李四 答对了：{answer} —— {record.source} +1 分（共 1 分）")  # 3 hints: 1 point
    assert "第 2/3 题" in correct
    # Nobody answers question 2: a hint on the clock, then the answer revealed and question 3.
    [hint] = await group.tick(after_s=11)
    assert hint.startswith("💡 出自")
    _prompt2, answer2 = asked(core, correct)
    [reveal] = await group.tick(after_s=41)
    assert reveal.startswith(f"⌛ 时间到！答案是：{answer2} —— ") and "第 3/3 题" in reveal
    _prompt3, answer3 = asked(core, reveal)
    over = await group.one("u1", f"/a {answer3}")
    assert "✅ 张三 答对了" in over and "+3 分" in over  # no hints: full points
    assert "🏁 接句结束（共 3 题）。" in over and "🥇 张三：3 分（1 句）" in over and "🥈 李四：1 分（1 句）" in over
    assert await group.tick(after_s=100) == []
    assert "张三" in await group.one("u1", "/rank")


async def test_previous_line_mode_and_one_game_per_chat(core: ChatCore) -> None:
    group = Group(core)
    start = await group.one("u1", "/jieju 上 题数=1")
    assert "接上句" in start
    _prompt, answer = asked(core, start)
    assert "第 1/1 题" in await group.one("u2", "/fhl 月")  # a game runs: its state, not a second game
    over = await group.one("u2", f"/a {answer}")
    assert "🏁 接句结束（共 1 题）" in over
