"""The games' outbox through the chat core: marks, replies, the verdict board, and clocks that count
from when their message is visible. Real Redis, the built-in index; no platform (the front-ends'
side is in tests/bots/telegram/test_telegram_verdicts.py and tests/bots/discord/test_discord_verdicts.py).
"""

from __future__ import annotations

import time

from support.games import Group
from support.settings import make_bot_settings

from bots.core.chat import ChatCore
from bots.core.games.jieju import JiejuGame
from bots.core.models import IncomingMessage
from worker.contract.service import PoemService


async def test_a_quiet_group_gets_marked_replies_and_a_private_chat_plain_ones(core: ChatCore) -> None:
    group = Group(core)
    await group.say("u1", "/fhl 月")
    [right] = await group.say("u1", "/a 床前明月光")
    [repeat] = await group.say("u2", "/a 床前明月光")
    [wrong] = await group.say("u2", "/a 月亮月亮你真圆")
    assert (right.mark, repeat.mark, wrong.mark) == ("right", "repeat", "wrong")
    assert right.reply_to_message_id == "2" and not right.mark_only  # the mark and the text, both at once
    private = Group(core, chat="p1", group=False)
    await private.say("u1", "/fhl 月")
    [answer] = await private.say("u1", "/a 床前明月光")
    assert answer.mark is None and "🤖" in answer.text  # no reactions in a private chat: the reply is enough


async def test_a_busy_group_gets_marks_at_once_and_the_details_on_one_board(service: PoemService) -> None:
    core = ChatCore(service, make_bot_settings(game_chat_limit=3, game_flush_s=4.0))  # the start, two replies
    group = Group(core)
    await group.say("u1", "/fhl 月")
    lines = [r.text for r in core.games.index.with_char("月", lengths=(5, 7), limit=6)]
    replies = [out for line in lines[:2] for out in await group.say("u1", f"/a {line}")]
    assert [o.mark_only for o in replies] == [False, False]  # within the limit: replies
    first = await group.say("u2", f"/a {lines[2]}")
    assert [o.mark_only for o in first] == [True, False] and first[1].board_key  # the mark, and a new board
    later = [out for line in lines[3:] for out in await group.say("u3", f"/a {line}")]
    assert all(o.mark_only and o.mark == "right" for o in later)  # the board waits game_flush_s; the marks do not
    [board] = await core.games.tick("telegram", time.time() + 5)
    assert board.board_key == first[1].board_key  # the same board, with every line so far
    assert all(line in board.text for line in lines[2:])
    assert await core.games.tick("telegram", time.time() + 10) == []  # nothing waits: nothing to edit
    # A Discord slash answer has no message to react to: it is answered in full, at once.
    slash = IncomingMessage("telegram", "g1", "u4", "/a 月落乌啼霜满天", is_group=True, user_name="赵六")
    [direct] = await core.handle(slash)
    assert direct.mark is None and not direct.mark_only and "月落乌啼霜满天" in direct.text


async def test_a_questions_clock_counts_from_when_it_is_visible(core: ChatCore) -> None:
    group = Group(core)
    [start] = await group.say("u1", "/jieju 题数=2")
    assert start.clock is not None
    judged_at, deadline = start.clock
    store = core.games.store
    before = store.load("telegram", "g1")
    timer = store.timer("telegram", "g1")
    assert isinstance(before, JiejuGame) and before.deadline == deadline and timer is not None
    await core.game_visible("telegram", start, judged_at + 5)  # the question showed 5 s after it was set
    after = store.load("telegram", "g1")
    assert isinstance(after, JiejuGame)
    assert (after.deadline, after.hint_at) == (before.deadline + 5, before.hint_at + 5)
    assert store.timer("telegram", "g1") == timer + 5
    await core.game_visible("telegram", start, judged_at + 9)  # said twice: its clock has moved on already
    assert store.load("telegram", "g1").deadline == before.deadline + 5  # type: ignore[union-attr]
