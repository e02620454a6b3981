"""飞花令 through the chat core, against a real Redis and the built-in line index.

Three players in a group: accepted lines with sources, every rejection, 古法 positions, hints, the
clock (warning, end, scoreboard, leaderboard), the bot opponent, a bot restart mid-game, two bot
processes sharing one game, a burst of answers (marks, replies, the verdict board), and fuzzed input.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from support.games import Group
from support.settings import make_bot_settings

from bots.core.admission import group_send_budget
from bots.core.chat import ChatCore
from bots.core.messages import t
from bots.core.models import OutgoingMessage
from bots.core.settings import BotSettings
from worker.contract.service import PoemService


@pytest.fixture
def bot_settings() -> BotSettings:
    """Generous flood control: these tests read every verdict at once (the burst test sets its own)."""
    return make_bot_settings(game_chat_limit=100)


@pytest.fixture
def group(core: ChatCore) -> Group:
    return Group(core)


async def test_a_whole_group_game_with_three_players(group: Group) -> None:
    start = await group.one("u1", "/fhl 月")
    assert start.startswith("🌸 飞花令开局！令字「月」· 自由") and "60 秒" in start
    assert (await group.one("u1", "/a 床前明月光")) == "✅ 床前明月光 —— 唐·李白《静夜思》 · 张三 +2 分（共 2 分）"
    # Traditional input with punctuation, as a plain message (the bot reads the group).
    assert (await group.one("u2", "舉頭望明月。")).startswith("✅ 举头望明月 —— 唐·李白《静夜思》 · 李四 +2 分")
    assert (await group.one("u3", "/a 举头望明月")) == "❌ 「举头望明月」已经有人用过（李四）。"
    near = await group.one("u3", "/a 明月几时还有")  # (one character off a famous line is a slip: accepted)
    assert near == "❌ 没背熟：原句是「明月几时有」—— 宋·苏轼《水调歌头》"
    assert (await group.one("u3", "/a 月亮月亮你真圆")) == "❌ 「月亮月亮你真圆」不在诗库里。"
    assert (await group.one("u3", "/a 春眠不觉晓")) == "❌ 「春眠不觉晓」里没有令字「月」。"
    assert (await group.one("u3", "/a 月")) == t("fhl_too_short", None, min=4)
    assert (await group.say("u3", "今天月亮好圆啊")) == []  # plain chatter that is no line: silence
    assert (await group.say("u3", "哈哈")) == []
    assert (await group.one("u3", "明月松间照")).startswith("✅ 明月松间照 —— 唐·王维《山居秋暝》 · 王五 +2 分")
    assert (await group.one("u1", "/a 月落乌啼霜满天")).endswith("张三 +2 分（共 4 分）")
    hint = await group.one("u2", "/hint")
    assert hint.startswith("💡 提示（1/3）：") and "月" in hint.split("\n")[1] and "○" in hint
    state = await group.one("u2", "/fhl")
    assert "已接 4 句" in state and "张三：4 分" in state
    assert (await group.one("u2", "/stop")) == t("fhl_stop_not_yours", None, name="张三")
    # Nobody answers: a warning 15 s before the end, then the scoreboard, once.
    assert await group.tick() == []
    [warning] = await group.tick(after_s=50)
    assert warning.startswith("⏳ 还剩") and "「月」" in warning
    assert await group.tick(after_s=50) == []
    [over] = await group.tick(after_s=61)
    assert over.startswith("⌛ 时间到！🏁 飞花令结束（令字「月」，共 4 句）。")
    assert over.split("\n")[1:] == ["🥇 张三：4 分（2 句）", "🥈 李四：2 分（1 句）", "🥉 王五：2 分（1 句）"]
    assert await group.tick(after_s=120) == []
    assert (await group.one("u1", "/a 床前明月光")) == t("fhl_none", None)
    rank = await group.one("u1", "/rank")
    assert rank.startswith("🏆 本群诗词游戏排行（飞花令、接句、猜诗句的得分合计）\n— 总榜 —\n"
                           "1. 张三 4 分（飞花令 4） · 2 句 · 单局最佳 4")
    assert rank.count("王五") == 2  # all time and this week


async def test_classic_mode_positions(group: Group) -> None:
    start = await group.one("u1", "/fhl 月 古法")
    assert "每句须含「月」；古法：第 n 句的令字在第 n 字（七句一轮），第一句在第 1 字，" in start
    assert "在第 1 字" in (await group.one("u1", "/a 床前明月光")) and "古法" in (await group.one("u1", "/fhl"))
    ok = await group.one("u1", "/a 月落乌啼霜满天")
    assert ok.startswith("✅ 月落乌啼霜满天") and ok.endswith("下一句：「月」在第 2 字")
    assert (await group.one("u2", "/a 明月松间照")).startswith("✅ 明月松间照")
    assert (await group.one("u2", "/a 床前明月光")) == "❌ 古法：这一句的「月」要在第 3 字。"
    state = await group.one("u2", "/fhl")
    assert "秒（令字须在第 3 字）\n" in state and "且在" not in state  # where the next line's 令字 goes
    [warning] = await group.tick(after_s=50)
    assert warning.startswith("⏳ 还剩") and warning.endswith("！每句须含「月」（令字须在第 3 字）")


async def test_against_the_bot_it_answers_famous_lines_and_can_lose(core: ChatCore) -> None:
    private = Group(core, chat="p1", group=False)
    start = await private.one("u1", "/fhl 月")
    assert "对战（困难）" in start  # a private chat always plays against the bot
    reply = await private.one("u1", "/a 床前明月光")
    mine = reply.split("\n")[1]
    assert mine.startswith("🤖 我接：") and "月" in mine and "——" in mine
    bot_line = mine.removeprefix("🤖 我接：").split(" —— ")[0]
    assert core.games.index.lookup(bot_line) is not None  # a real line from the index
    again = await private.one("u1", f"/a {bot_line}")
    assert again.startswith("❌") and "诗机" in again  # the bot's line counts as used
    # The easy bot knows only the most famous lines: with a tiny memory it runs out and loses.
    easy_core = ChatCore(core.service, make_bot_settings(game_easy_rank=10))
    easy = Group(easy_core, chat="p2", group=False)
    await easy.one("u1", "/fhl 月 简单")
    known = [r.text for r in easy_core.games.index.with_char("月", lengths=(5, 7), max_rank=10, limit=10)]
    others = [r.text for r in easy_core.games.index.with_char("月", lengths=(5, 7), limit=40) if r.text not in known]
    out = ""
    for line in known + others:  # play what the easy bot knows first: it runs out of lines
        out = await easy.one("u1", f"/a {line}")
        if "我接不上了" in out or "🤖 我接" not in out:
            break
    assert "我接不上了" in out and "🏁" in out and "🥇 张三" in out


async def test_a_restarted_bot_keeps_the_game_and_its_clock(core: ChatCore, service: PoemService) -> None:
    group = Group(core)
    await group.one("u1", "/fhl 花")
    await group.one("u1", "/a 花落知多少")
    restarted = Group(ChatCore(service, make_bot_settings()))  # a new process: nothing in memory
    state = await restarted.one("u2", "/fhl")
    assert "令字「花」" in state and "已接 1 句" in state
    assert (await restarted.one("u2", "/a 花落知多少")).startswith("❌")
    [over] = await restarted.tick(after_s=61)
    assert "共 1 句" in over


async def test_two_bot_processes_end_a_round_exactly_once(core: ChatCore, service: PoemService) -> None:
    group = Group(core)
    await group.one("u1", "/fhl 春")
    other = ChatCore(service, make_bot_settings())
    later = time.time() + 61
    results = await asyncio.gather(*[c.games.tick("telegram", later) for c in (core, other) for _ in range(3)])
    overs = [o for batch in results for o in batch if o.text.startswith("⌛")]
    assert len(overs) == 1


async def test_a_burst_of_answers_is_marked_at_once_and_every_verdict_shown_once(service: PoemService) -> None:
    """200 answers from 10 users in one group: each gets its mark at once, in order; the details go
    as replies while the group is quiet, then on the verdict board; none lost, none twice, and the
    group's message budget (sends and edits) is kept."""
    core = ChatCore(service, make_bot_settings())  # the default flood control
    group = Group(core)
    await group.one("u0", "/fhl 月")
    lines = [r.text for r in core.games.index.with_char("月", lengths=(), limit=150)]
    answers = [lines[i % len(lines)] if i % 4 else f"月{'甲乙丙丁戊己庚辛壬癸'[i % 10]}不是诗句啊" for i in range(200)]
    outs: list[OutgoingMessage] = []
    for i, answer in enumerate(answers):
        outs += await group.say(f"u{i % 10}", f"/a {answer}")
    outs += await core.games.tick("telegram", time.time() + 10)  # the board shows what still waits
    marks = [o for o in outs if o.mark]
    assert [o.reply_to_message_id for o in marks] == [str(i) for i in range(2, 202)]  # one each, in order
    first = {a: answers.index(a) for a in answers}
    assert [o.mark for o in marks] == ["wrong" if not i % 4 else "right" if first[a] == i else "repeat"
                                       for i, a in enumerate(answers)]
    sent = [o for o in outs if not o.mark_only]  # what the group sees as messages and edits
    boards: dict[str, str] = {}
    for o in sent:
        if o.board_key:
            boards[o.board_key] = o.text  # edited in place: the last text is what stays
    replies = [o.text for o in sent if not o.board_key]
    shown = [line for text in [*replies, *boards.values()] for line in text.split("\n") if "✅" in line or "❌" in line]
    assert len(shown) == 200  # every verdict, once
    assert sum("✅" in v for v in shown) == len({a for i, a in enumerate(answers) if i % 4})
    budget = group_send_budget("telegram", core.settings.game_chat_window_s, core.settings)
    assert budget is not None and 1 + len(sent) <= budget, len(sent)  # the start, replies, boards and edits
    assert all(len(o.text) <= 4096 for o in sent)


@pytest.mark.parametrize("text", ["", " ", "月" * 10000, "🌕🌕🌕🌕", "<b>月</b>[x](http://e.co)", "\u202e月光月光\u0000",
                                  "a\ud800月", "@everyone 床前明月光"])
async def test_fuzzed_answers_never_crash_and_echo_nothing_unsafe(group: Group, text: str) -> None:
    await group.one("u1", "/fhl 月")
    for message in (f"/a {text}", text):
        out = await group.say("u2", message)
        for o in out:
            for bad in ("<b>", "](", "://", "\u202e", "\u0000", "@everyone", "\ud800"):
                assert bad not in o.text, (bad, o.text)
            assert len(o.text) < 400


async def test_a_couplet_is_judged_by_the_line_that_holds_the_token(group: Group) -> None:
    start = await group.one("u1", "/fhl 春")
    assert "内置名篇库" in start and "poetcore" not in start  # the players' words; the admin's are in the log
    accepted = await group.one("u1", "/a 国破山河在，城春草木深")
    assert accepted.startswith("✅ 城春草木深 —— 唐·杜甫《春望》 · 张三 +2 分")  # not "a made-up line"
    assert (await group.one("u2", "/a 春眠不觉晓。处处闻啼鸟")).startswith("✅ 春眠不觉晓 —— ")
    assert (await group.one("u3", "羌笛何须怨杨柳 春风不度玉门关")).startswith("✅ 春风不度玉门关")  # plain, a space
    both = await group.one("u2", "/a 春潮带雨晚来急，野渡无人舟自横。春江潮水连海平")
    assert both == "❌ 一次只答一句，例如 /a 春潮带雨晚来急"  # two lines hold 春: which one?
    assert await group.one("u2", "/a 床前明月光，疑是地上霜") == "❌ 一次只答一句，例如 /a 床前明月光"  # neither
    assert await group.say("u2", "我们今天，一起去公园") == []  # chatter in two parts: silence
    state = await group.one("u1", "/fhl")
    assert "已接 3 句" in state


async def test_rank_in_a_private_chat_and_points_per_game(core: ChatCore) -> None:
    private = Group(core, chat="p9", group=False)
    await private.one("u1", "/fhl 月")
    await private.one("u1", "/a 床前明月光")
    await private.one("u1", "/stop")
    await private.one("u1", "/jieju 题数=1")
    game = core.games.store.load("telegram", "p9")
    assert game is not None
    await private.one("u1", f"/a {game.answer}")  # type: ignore[union-attr]
    rank = await private.one("u1", "/rank")
    assert rank.startswith("🏆 你在这里的诗词游戏得分（飞花令、接句、猜诗句合计）\n— 总榜 —\n")
    assert "本群" not in rank and "1. 张三 5 分（飞花令 2 · 接句 3） · 2 句" in rank
    assert "— 本周 —\n1. 张三 5 分 · 2 句" in rank  # the bot's own lines never count
