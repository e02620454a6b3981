"""接句 through the chat core, against a real Redis and the built-in line index."""

from __future__ import annotations

import re

import pytest
from support.games import Group
from support.settings import make_bot_settings

from bots.core.chat import ChatCore
from bots.core.games.jieju import JiejuGame, parse_jieju, tone_pattern
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
    assert await group.one("u3", "/hint") == f"💡 提示（1/3）：出自 {record.source}"
    assert await group.one("u3", "/hint") == f"💡 提示（2/3）：第一个字是「{answer[0]}」，共 {len(answer)} 字"
    assert await group.one("u3", "/hint") == f"💡 提示（3/3）：平仄 {tone_pattern(answer)}"
    assert await group.one("u3", "/hint") == "💡 这题的 3 条提示已经用完了。"
    correct = await group.one("u2", answer)  # a plain answer is enough
    assert correct.startswith(f"✅ 李四 答对了：{answer} —— {record.source} +1 分（共 1 分）")  # 3 hints: 1 point
    assert "第 2/3 题" in correct
    # Nobody answers question 2: a hint on the clock, then the answer revealed and question 3.
    [hint] = await group.tick(after_s=11)
    assert hint.startswith("💡 提示（1/3）：出自")
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
    # Another game runs: refused by name, with how it ends (in a group only its starter stops it).
    refused = await group.one("u2", "/fhl 月")
    assert refused == "❌ 这里正在玩接句，一次只能玩一局。玩完，或由开局的张三发 /stop 结束它，再开飞花令。"
    assert await group.one("u1", "/cai") == "❌ 这里正在玩接句，一次只能玩一局。玩完或发 /stop 结束它，再开猜诗句。"
    assert "第 1/1 题" in await group.one("u2", "/jieju")  # the same game: where it stands
    over = await group.one("u2", f"/a {answer}")
    assert "🏁 接句结束（共 1 题）" in over


async def test_a_couplet_answer_is_judged_by_the_line_asked_for(core: ChatCore) -> None:
    group = Group(core)
    start = await group.one("u1", "/jieju 题数=3")
    assert "内置名篇库" in start  # the players are told the small index judges
    prompt, answer = asked(core, start)
    # The question's line and its answer, as players recite them: with ，, 。 or a space between.
    correct = await group.one("u2", f"/a {prompt}，{answer}")
    assert correct.startswith(f"✅ 李四 答对了：{answer}")
    prompt2, answer2 = asked(core, correct)
    assert (await group.one("u3", f"{prompt2} {answer2}")).startswith(f"✅ 王五 答对了：{answer2}")  # plain chat
    # Two real lines, neither the question's: which one is the answer? Ask for one.
    game = core.games.store.load("telegram", group.chat)
    assert isinstance(game, JiejuGame)
    first, second = [r.text for r in core.games.index.with_char("月", limit=10)
                     if r.text not in (game.prompt, game.answer)][:2]
    assert await group.one("u2", f"/a {first}。{second}") == f"❌ 一次只答一句，例如 /a {first}"
    assert await group.one("u2", f"{first} {second}") == f"❌ 一次只答一句，例如 /a {first}"  # verse, though plain
    assert await group.say("u2", "今天天气真好，明天去爬山吧") == []  # chatter in two parts: silence
    assert game == core.games.store.load("telegram", group.chat)  # nothing was judged


async def test_stop_reveals_the_open_questions_answer(core: ChatCore) -> None:
    group = Group(core)
    start = await group.one("u1", "/jieju")
    prompt, answer = asked(core, start)
    record = core.games.index.lookup(prompt)
    assert record is not None
    stopped = await group.one("u1", "/stop")
    assert stopped.startswith(f"⏹ 这题的答案是：{answer} —— {record.source}\n🏁 接句结束（共 1 题）。")
    assert core.games.store.load("telegram", group.chat) is None
