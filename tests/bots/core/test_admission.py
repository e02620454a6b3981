"""Group admission against a real Redis: a group gets what it can be answered, everyone else hears
at once in one combined notice, and private chats keep their own budget."""

from __future__ import annotations

import asyncio
import time

from support.settings import make_bot_settings, make_queue_settings

from bots.core import keys
from bots.core.admission import BusyNotices, group_send_budget
from bots.core.chat import ChatCore
from bots.core.models import IncomingMessage
from worker.contract.service import PoemService

GROUP = "-100"


def group_msg(user: int, *, platform: str = "telegram", route: dict | None = None,
              locale: str | None = None) -> IncomingMessage:
    return IncomingMessage(platform=platform, chat_id=GROUP, user_id=f"u{user}", text="/poem 秋月",
                           message_id=str(1000 + user), is_group=True, user_name=f"诗友{user}", route=route,
                           locale=locale)


def make_core(redis_url: str, **bot: object) -> tuple[ChatCore, PoemService]:
    service = PoemService.from_url(redis_url, make_queue_settings(max_queue_length=10_000))
    return ChatCore(service, make_bot_settings(**bot)), service


def test_send_budgets_per_platform() -> None:
    settings = make_bot_settings()
    assert group_send_budget("telegram", 60, settings) == 20
    assert group_send_budget("discord", 60, settings) == 60
    assert group_send_budget("console", 60, settings) is None
    paced = make_bot_settings(telegram_group_rate=4, telegram_group_period_s=2)
    assert group_send_budget("telegram", 60, paced) == 120


async def test_a_busy_group_is_admitted_what_it_can_be_sent(redis_url: str) -> None:
    """Telegram's 20 a minute, less 5 placeholders, the one "group busy" notice and 3 refusal notices
    (one per 20 s): 11 poems. Request k sees the placeholders of the k before it, so the budget
    shrinks as the placeholders go out (17, 16, ... 11) and the 12th request is the first refused."""
    core, _ = make_core(redis_url)
    answers = {u: await core.handle(group_msg(u)) for u in range(30)}
    admitted = [u for u in range(30) if await core.store.recent_requests("telegram", f"u{u}")]
    assert admitted == list(range(11))
    assert all(answers[u] == [] for u in range(11, 30))  # refused: nothing each, one notice for all
    assert sum(1 for u in admitted if answers[u]) == 5 + 1  # five placeholders, then "group busy" once
    [notice] = await core.notices.due("telegram", now=time.time() + 3)
    assert notice.chat_id == GROUP and notice.text.startswith("本群此刻请求太多")
    named = notice.text.split("：", 1)[1].split("。", 1)[0].split("、")
    assert sorted(named) == sorted(f"诗友{u}" for u in range(30) if u not in admitted)
    assert "1 分钟后再试" in notice.text
    assert await core.notices.due("telegram", now=time.time() + 3) == []  # taken once


async def test_the_next_notice_waits_one_notice_window(redis_url: str) -> None:
    notices = BusyNotices(PoemService.from_url(redis_url, make_queue_settings()).connection, notice_window_s=20)
    await notices.add("telegram", GROUP, "甲", 30, "zh")
    await notices.add("telegram", GROUP, "乙", 90, "zh")
    await notices.add("telegram", GROUP, "甲", 30, "zh")  # one name once, however often refused
    [first] = await notices.due("telegram", now=time.time() + 3)
    assert first.text.count("甲") == 1 and "乙" in first.text and "2 分钟后再试" in first.text
    await notices.add("telegram", GROUP, "丙", 30, "en")
    assert await notices.due("telegram", now=time.time() + 3) == []
    [second] = await notices.due("telegram", now=time.time() + 25)
    assert "丙" in second.text and "甲" not in second.text


async def test_two_bot_processes_send_a_notice_once(redis_url: str) -> None:
    url_settings = make_queue_settings()
    a = BusyNotices(PoemService.from_url(redis_url, url_settings).connection, notice_window_s=20)
    b = BusyNotices(PoemService.from_url(redis_url, url_settings).connection, notice_window_s=20)
    for name in ("甲", "乙", "丙"):
        await a.add("telegram", GROUP, name, 30, "zh")
    later = time.time() + 3
    got = await asyncio.gather(a.due("telegram", now=later), b.due("telegram", now=later))
    assert sorted(len(x) for x in got) == [0, 1]


async def test_game_messages_come_out_of_the_groups_budget(redis_url: str) -> None:
    """A 飞花令 has sent 10 messages this minute: 20 - 10 - 3 notices leaves 7, and each placeholder
    takes one more (7, 6, 5, 4): the 5th request is refused."""
    core, service = make_core(redis_url)
    service.connection.set(keys.game_sent("telegram", GROUP), 10, ex=60)
    for u in range(20):
        await core.handle(group_msg(u))
    admitted = [u for u in range(20) if await core.store.recent_requests("telegram", f"u{u}")]
    assert admitted == [0, 1, 2, 3]


async def test_private_chats_keep_their_own_budget(redis_url: str) -> None:
    core, _ = make_core(redis_url)
    for u in range(30):
        private = IncomingMessage(platform="telegram", chat_id=str(u + 1), user_id=f"u{u}", text="/poem 秋月",
                                  message_id="1")
        [out] = await core.handle(private)
        assert out.request_id
    assert await core.notices.due("telegram", now=time.time() + 60) == []


async def test_a_discord_slash_command_is_still_answered_itself(redis_url: str) -> None:
    core, _ = make_core(redis_url, telegram_group_rate=1)
    interaction = {"kind": "interaction", "interaction_id": "1", "application_id": "2", "channel_id": GROUP}
    core.settings = make_bot_settings()  # Discord's own 5 per 5 s
    for u in range(60):  # spend the channel's budget with prefix commands (refused ones go to the notice)
        await core.handle(group_msg(u, platform="discord"))
    first = await core.handle(group_msg(99, platform="discord", route=interaction))
    assert first and first[0].request_id is None  # the budget of 1 is spoken for by the refusal notices
    assert first[0].text.startswith("这个群里请求太频繁了")
