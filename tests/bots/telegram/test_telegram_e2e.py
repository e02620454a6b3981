"""End to end on the fake Telegram: user message -> real PTB bot -> real Redis queue -> a worker process
with the tiny model -> reply stream -> the acknowledgement edited into the poem, in the right chat.

One redis-server and one worker serve the whole module (the worker loads torch once). Tests that
need a request to stay queued (cancel, queue full) use a queue no worker listens on.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from support.fake_telegram import FakeTelegram, until
from support.settings import make_bot_settings, make_queue_settings
from support.workers import spawn_worker

from bots.core import keys as bot_keys
from bots.core.chat import ChatCore
from bots.core.messages import t
from bots.telegram import TelegramBot
from poetcore.prosody.ci_check import check_ci
from poetcore.prosody.rhymes import RhymeTable, Tone
from poetcore.text.chars import is_han, to_simplified
from worker.contract import keys
from worker.contract.redis_server import RedisServer
from worker.contract.replies import ReplyConsumer
from worker.contract.service import PoemService

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

POEM_WAIT_S = 180.0  # the first poem includes the worker's torch import and model load on a busy CPU
# zh footer "—— 七绝 · 平水韵东韵", en footer "— 七绝 · 平水韵 rhyme group 东", traditional "七絕 · 平水韻東韻"
POEM_RE = re.compile(r"^《(.+)》\n((?:.+\n){4,8})\n—{1,2} ([五七][绝絕律]) · 平水[韵韻](?: rhyme group )?(.)[韵韻]?$")
IDLE_QUEUE = "e2e-idle"  # no worker serves it
# A 词: "《浣溪沙·秋思》", a sentence a row, "—— 浣溪沙 · 词林正韵第七部平"
CI_RE = re.compile(r"^《(.+)》\n((?:.+\n)+)\n—{1,2} (\S+) · 词林正韵(?: section )?(.+)$")
ZE_RE = re.compile(r"^《(.+)》\n((?:.+\n){4})\n—{1,2} ([五七]绝仄韵) · 平水韵(.+)韵$")


@pytest.fixture(scope="module")
def e2e_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    with RedisServer(tmp_path_factory.mktemp("e2e-redis"), appendonly=False) as server:
        yield server


@pytest.fixture(scope="module")
def e2e_worker(e2e_redis: RedisServer, request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    # E2E_MODEL_DIR=<dir> measures the same round trip with a real model (e.g. the shipped one).
    model = os.environ.get("E2E_MODEL_DIR") or request.getfixturevalue("tiny_model_dir")
    log_dir = tmp_path_factory.mktemp("e2e-worker")
    proc = spawn_worker(e2e_redis.url, log_dir, "e2e", model=model, device="cpu")
    yield proc
    proc.terminate()
    proc.wait(60)


class Harness:
    """A fake Telegram plus a bot that can be stopped and started again (same Redis, same queue)."""

    def __init__(self, fake: FakeTelegram, url: str, **queue: Any) -> None:
        self.fake = fake
        self.url = url
        self.queue_settings = make_queue_settings(**queue)
        self.service = PoemService.from_url(url, self.queue_settings)
        self.settings = make_bot_settings(telegram_token=fake.token, telegram_base_url=fake.base_url,
                                          telegram_poll_timeout_s=5, candidates=2)
        self.bot: TelegramBot | None = None
        self.consumer: ReplyConsumer | None = None

    async def start(self) -> None:
        self.consumer = ReplyConsumer.from_settings(self.queue_settings, "telegram", self.url, consumer="e2e-bot")
        self.bot = TelegramBot(ChatCore(self.service, self.settings), self.settings, self.consumer)
        await self.bot.start()

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        if self.consumer is not None:
            await self.consumer.aclose()
        self.bot = self.consumer = None

    async def poem_in(self, chat_id: int, timeout: float = POEM_WAIT_S) -> str:
        """Wait until the chat's acknowledgement was edited into a poem; returns the poem text."""
        await self.fake.wait_for(lambda f: any(POEM_RE.match(m.text) for m in f.chat(chat_id)), timeout)
        return next(m.text for m in self.fake.chat(chat_id) if POEM_RE.match(m.text))


@pytest.fixture
async def harness(e2e_redis: RedisServer, e2e_worker: subprocess.Popen[bytes], fake_telegram: FakeTelegram) -> AsyncIterator[Harness]:
    h = Harness(fake_telegram, e2e_redis.url)
    await h.start()
    yield h
    await h.stop()
    h.service.connection.close()


def assert_one_poem(text: str, form: str, title: str | None = None) -> list[str]:
    match = POEM_RE.match(text)
    assert match, text
    lines = match.group(2).splitlines()
    n_lines, length = {"五绝": (4, 5), "七绝": (4, 7), "五律": (8, 5), "七律": (8, 7)}[form]
    assert to_simplified(match.group(3)) == form and len(lines) == n_lines, text
    assert all(len(line) == length + 1 and line[-1] in "，。" for line in lines), lines
    if title is not None:
        assert match.group(1) == title
    return [line[:-1] for line in lines]


async def test_poem_round_trip_in_two_chats(harness: Harness) -> None:
    fake = harness.fake
    started = time.monotonic()
    asked = await fake.user_says(5001, "/poem 秋月 七绝")
    await fake.user_says(-100500, "/poem@poetbot 春风 五绝", user_id=77, language_code="en")
    poem = await harness.poem_in(5001)
    latency = time.monotonic() - started
    group_poem = await harness.poem_in(-100500)
    # Exactly one message per chat: the acknowledgement, edited into the poem, replying to the user.
    [private] = fake.chat(5001)
    assert private.history[0].startswith("正在作诗《秋月》（七绝）") and private.reply_to == asked
    assert_one_poem(poem, "七绝", "秋月")
    [group] = fake.chat(-100500)
    assert group.history[0].startswith("Writing a 五绝 on “春风”")
    assert_one_poem(group_poem, "五绝", "春风")
    assert "rhyme group" in group_poem
    print(f"\nuser message -> poem on the fake Telegram (cold worker): {latency:.2f} s")


async def test_acrostic_heads_start_each_line(harness: Harness) -> None:
    await harness.fake.user_says(5002, "/cang 春夏秋冬 七绝 韵=东")
    lines = assert_one_poem(await harness.poem_in(5002), "七绝")
    assert [line[0] for line in lines] == list("春夏秋冬")
    assert (await harness.poem_in(5002)).endswith("平水韵东韵")


async def test_warm_latency_and_traditional(harness: Harness) -> None:
    await harness.fake.user_says(5003, "/poem 江雪 五绝")
    await harness.poem_in(5003)  # warm the worker
    started = time.monotonic()
    await harness.fake.user_says(5004, "/poem 山居 五绝 繁")
    poem = await harness.poem_in(5004, timeout=60)
    latency = time.monotonic() - started
    assert "平水韻" in poem and poem.startswith("《山居》")
    assert_one_poem(poem, "五绝")
    print(f"\nuser message -> poem on the fake Telegram (warm worker): {latency:.2f} s")


async def test_bad_input_is_answered_at_once_and_never_queued(harness: Harness) -> None:
    fake = harness.fake
    cases = {
        "/poem": t("err_topic_missing", None),
        "/poem " + "秋" * 40: t("err_topic_too_long", None, length=40, limit=12),
        "/poem 🌙✨": t("err_topic_not_han", None, bad="🌙✨"),
        "/poem moonlight": t("err_topic_latin", None, bad="moonlight"),
        "/cang 春夏秋 七绝": t("err_heads_count", None, form="七绝", n_lines=4, count=3, heads="春夏秋", example_form="七绝"),
        "/poem 秋月 九绝": None,  # a form-like word we do not write: the supported forms are listed
        "/poem " + "长" * 1000: t("err_too_long", None, length=1006, limit=300),
    }
    before = harness.service.connection.xlen(keys.reply_stream("telegram"))
    for i, text in enumerate(cases):
        await fake.user_says(5100 + i, text)
    for i, expected in enumerate(cases.values()):
        await fake.wait_for(lambda f, c=5100 + i: len(f.chat(c)) == 1)
        got = fake.chat(5100 + i)[0].text
        assert got == expected if expected else "五绝、七绝、五律、七律" in got
    intake = bot_keys.intake_stream("telegram")
    await until(lambda: harness.service.connection.xpending(intake, "bots")["pending"] == 0,
                what="every message handled")  # nothing more will be sent or queued
    assert harness.service.connection.xlen(keys.reply_stream("telegram")) == before
    assert all(len(fake.chat(5100 + i)) == 1 for i in range(len(cases)))


async def test_rate_limit(e2e_redis: RedisServer, e2e_worker: subprocess.Popen[bytes], fake_telegram: FakeTelegram) -> None:
    h = Harness(fake_telegram, e2e_redis.url, user_limit=1, user_window_s=600)
    await h.start()
    try:
        await fake_telegram.user_says(5201, "/poem 秋月", user_id=5201)
        await fake_telegram.user_says(5201, "/poem 春风", user_id=5201)
        await fake_telegram.wait_for(lambda f: len(f.chat(5201)) == 2)
        assert re.fullmatch(r"请求太频繁了，请 \d+ 秒后再试。", fake_telegram.chat(5201)[1].text)
        await h.poem_in(5201)  # the first one still arrives
    finally:
        await h.stop()


async def test_queue_full_and_cancel(e2e_redis: RedisServer, fake_telegram: FakeTelegram) -> None:
    h = Harness(fake_telegram, e2e_redis.url, queue=IDLE_QUEUE, max_queue_length=1, user_limit=0, chat_limit=0)
    h.service.connection.delete(f"rq:queue:{IDLE_QUEUE}")
    await h.start()
    fake = fake_telegram
    try:
        await fake.user_says(5301, "/poem 秋月", user_id=1)
        await fake.wait_for(lambda f: len(f.chat(5301)) == 1)
        await fake.user_says(5302, "/poem 春风", user_id=2, language_code="en")
        await fake.wait_for(lambda f: len(f.chat(5302)) == 1)
        assert re.fullmatch(r"The poet is busy right now; please try again in \d+ s\.", fake.chat(5302)[0].text)
        # /queue, then /cancel: the waiting request is withdrawn and its acknowledgement says so.
        await fake.user_says(5301, "/queue", user_id=1)
        await fake.wait_for(lambda f: len(f.chat(5301)) == 2)
        assert fake.chat(5301)[1].text == "你的请求排在第 1 位，队列中共有 1 个请求。"
        await fake.user_says(5301, "/cancel", user_id=1)
        await fake.wait_for(lambda f: f.chat(5301)[0].history and len(f.chat(5301)) == 3)
        ack, _queue, cancel = fake.chat(5301)
        assert cancel.text == "已取消《秋月》（七绝）。"
        assert ack.text == t("failed_cancelled", None) and ack.history[0].startswith("正在作诗《秋月》")
        assert h.service.queue_length() == 0
    finally:
        await h.stop()


async def test_reply_published_while_the_bot_is_down_arrives_after_restart(
    harness: Harness, e2e_worker: subprocess.Popen[bytes]
) -> None:
    fake = harness.fake
    # Freeze the worker until the bot is down, so the poem is surely published while nobody listens.
    os.kill(e2e_worker.pid, signal.SIGSTOP)
    try:
        await fake.user_says(5401, "/poem 归雁 七绝")
        await fake.wait_for(lambda f: len(f.chat(5401)) == 1 and f.chat_actions)  # acknowledged, ack id stored
        await harness.stop()
    finally:
        os.kill(e2e_worker.pid, signal.SIGCONT)
    rid = harness.service.connection.lrange("poetcore:bot:user:telegram:5401", 0, 0)[0].decode()
    deadline = time.monotonic() + POEM_WAIT_S
    while not harness.service.connection.exists(keys.published(rid)):
        assert time.monotonic() < deadline, "the worker never answered"
        await asyncio.sleep(0.1)
    assert not fake.chat(5401)[0].history  # nobody delivered it while the bot was down
    await harness.start()  # a fresh bot: same Redis, nothing in memory
    poem = await harness.poem_in(5401, timeout=30)
    [msg] = fake.chat(5401)
    assert msg.text == poem and msg.history[0].startswith("正在作诗《归雁》")
    assert_one_poem(poem, "七绝", "归雁")


async def test_continue_keeps_the_users_lines_and_the_form(harness: Harness) -> None:
    """/xu: the worker finishes the user's poem; the given lines come back verbatim."""
    await harness.fake.user_says(5009, "/xu 白日依山尽，黄河入海流 五绝")
    text = await harness.poem_in(5009)
    lines = assert_one_poem(text, "五绝", "续·白日依山尽")
    assert lines[:2] == ["白日依山尽", "黄河入海流"]
    assert harness.fake.chat(5009)[0].history[0].startswith("正在续写「白日依山尽」（五绝）")


async def test_couplet_answers_with_the_matching_line(harness: Harness) -> None:
    """/dui: one line in, its matching line out: same length, 平声 rhyme after a 仄 ending."""

    await harness.fake.user_says(5010, "/dui 白日依山尽")
    await harness.fake.wait_for(lambda f: any("（对句" in m.text for m in f.chat(5010)), POEM_WAIT_S)
    [msg] = harness.fake.chat(5010)  # the acknowledgement, edited into the answer
    assert msg.history[0].startswith("正在为「白日依山尽」对句…")  # a cold worker adds its queue place
    first, second = (line.rstrip("，。") for line in msg.text.split("\n")[:2])
    assert first == "白日依山尽" and len(second) == 5 and all(map(is_han, second))
    assert Tone.PING in RhymeTable.default().tones(second[-1])  # a 仄 ending is answered on a 平 rhyme


async def test_ci_in_a_group_comes_back_as_its_chart_breaks_it(harness: Harness) -> None:
    """/ci in a group: the 词 arrives titled 词牌·题, a sentence a row, and passes its own chart."""
    await harness.fake.user_says(-100600, "/ci 浣溪沙 秋思 部=7", user_id=78)
    await harness.fake.wait_for(lambda f: any(CI_RE.match(m.text) for m in f.chat(-100600)), POEM_WAIT_S)
    [msg] = harness.fake.chat(-100600)
    assert msg.history[0].startswith("正在作诗《秋思》（浣溪沙）")
    match = CI_RE.match(msg.text)
    assert match and match.group(1) == "浣溪沙·秋思" and match.group(3) == "浣溪沙" and match.group(4) == "第七部平"
    rows = match.group(2).splitlines()
    assert len(rows) == 5 and all(row.endswith("。") for row in rows)  # 浣溪沙: 3 + 3 lines, the 5th row a couplet
    report = check_ci("浣溪沙\n" + "".join(rows))
    assert report.ok and report.cipai == "浣溪沙" and report.rhyme_bu == 7


async def test_xu_with_ze_rhyme_lines_continues_in_their_rhyme(harness: Harness) -> None:
    """/xu 春眠不觉晓，处处闻啼鸟: the lines rhyme in 仄, so the poem goes on in their group, unscolded."""
    await harness.fake.user_says(5011, "/xu 春眠不觉晓，处处闻啼鸟")
    await harness.fake.wait_for(lambda f: any(ZE_RE.match(m.text) for m in f.chat(5011)), POEM_WAIT_S)
    [msg] = harness.fake.chat(5011)
    match = ZE_RE.match(msg.text)
    assert match and match.group(3) == "五绝仄韵" and match.group(4) == "上声筿"
    lines = [line[:-1] for line in match.group(2).splitlines()]
    assert lines[:2] == ["春眠不觉晓", "处处闻啼鸟"]
    table = RhymeTable.default()
    assert "上声十七筿" in table.groups(lines[3][-1]) and table.tones(lines[3][-1]) == {Tone.ZE}
    assert "不合律" not in msg.text and "注意" not in msg.text
