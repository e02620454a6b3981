"""Issues 22 and 27: the Telegram front-end rides out an unreachable Bot API, and says so quietly.

- ``poetbot serve`` started before its Bot API exists stays up, not ready on /healthz, retrying with
  capped, jittered back-off; once the API answers it is ready and serves.
- The API goes away in the middle of a burst and comes back: every request gets its answer exactly
  once and nothing is lost (getUpdates resumes at its offset, sends wait for the API).
- A 429 and an outage are expected conditions: one INFO/WARNING line each, no ERROR record, no
  traceback, and a metric counts them.

The fake Bot API goes away and comes back on command (``FakeTelegram.go_away/come_back``); every
wait is on state (the link, /healthz, the streams, the fake's messages), never on a guessed time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import REGISTRY
from support.fake_telegram import FakeTelegram, until
from support.settings import make_bot_settings, make_queue_settings

from bots.core import keys as bot_keys
from bots.core.backoff import Backoff
from bots.core.chat import ChatCore
from bots.telegram import TelegramBot
from worker.contract import keys
from worker.contract.health import Health
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.redis_server import free_port
from worker.contract.replies import ReplyConsumer, ReplyPublisher
from worker.contract.service import PoemService

pytestmark = pytest.mark.timeout(120)

POETBOT = Path(sys.executable).with_name("poetbot")
POEM = {"title": "秋月", "lines": ["碧落清辉照九州", "寒光万里动商秋", "谁家玉笛飞声远", "一夜乡心到白头"],
        "form": "七绝", "rhyme_group": "尤", "text": "..."}
FAST_RETRY = {"telegram_retry_first_s": 0.05, "telegram_retry_max_s": 0.2}  # short back-off: a quick test


def tg_settings(fake: FakeTelegram, **kw: Any) -> Any:
    return make_bot_settings(telegram_token=fake.token, telegram_base_url=fake.base_url, telegram_poll_timeout_s=5,
                             **{**FAST_RETRY, **kw})


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def loud(records: list[logging.LogRecord]) -> list[tuple[str, str, str]]:
    """Records an operator would have to read: ERROR and above, or any traceback (also one folded
    into the message text by the token-redacting filter)."""
    return [(r.name, r.levelname, r.getMessage()[:300]) for r in records
            if r.levelno >= logging.ERROR or r.exc_info or "Traceback" in r.getMessage()]


def publish(service: PoemService, reply: PoemReply) -> None:
    ReplyPublisher.from_settings(service.connection, service.settings).publish(reply)


def queued_requests(service: PoemService) -> list[PoemRequest]:
    from rq.job import Job
    from rq.serializers import JSONSerializer

    jobs = [Job.fetch(i, connection=service.connection, serializer=JSONSerializer) for i in service.queue.job_ids]
    return [PoemRequest.model_validate(j.args[0]) for j in jobs]


def pending(service: PoemService, stream: str) -> int:
    if not service.connection.exists(stream):
        return 0
    return int(service.connection.xpending(stream, service.settings.reply_group)["pending"])


def test_backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() -> None:
    low = Backoff(first_s=0.5, cap_s=30.0, rng=lambda: 0.0)
    high = Backoff(first_s=0.5, cap_s=30.0, rng=lambda: 1.0)
    assert [low.next() for _ in range(9)] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0, 15.0]
    assert [high.next() for _ in range(9)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    spread = Backoff(first_s=0.5, cap_s=30.0)
    assert all(15.0 <= d <= 30.0 for d in [spread.next() for _ in range(40)][8:])  # capped, never zero
    low.reset()
    assert low.next() == 0.25


# --- start before the API exists: `poetbot serve` -------------------------------------------------


def _serve_env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("POETCORE_", "POETBOT_", "TELEGRAM_", "DISCORD_")) and k != "REDIS_URL"}
    return {**clean, "POETCORE_LOG_FORMAT": "text", **env}


async def _health(http: aiohttp.ClientSession, port: int) -> tuple[int, dict[str, Any]] | None:
    """(status, body) of /healthz, or None while nothing listens yet."""
    try:
        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
            return resp.status, await resp.json()
    except aiohttp.ClientConnectionError:
        return None


async def _telegram_retries(http: aiohttp.ClientSession, port: int) -> float:
    async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
        text = await resp.text()
    found = re.search(r'^poetcore_platform_retries_total\{platform="telegram"\} (\S+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_serve_waits_for_an_unreachable_bot_api_then_serves(redis_url: str, tmp_path: Path) -> None:
    """Issue 22: no crash loop. Not ready while the API does not answer, alive, then ready and serving."""
    api_port, metrics_port = free_port(), free_port()
    fake = FakeTelegram(port=api_port)  # not serving yet: connections to its port are refused
    env = _serve_env(TELEGRAM_TOKEN=fake.token, TELEGRAM_BASE_URL=f"http://127.0.0.1:{api_port}/bot",
                     REDIS_URL=redis_url, POETBOT_TELEGRAM_POLL_TIMEOUT_S="2",
                     POETCORE_METRICS_PORT=str(metrics_port), POETBOT_TELEGRAM_RETRY_FIRST_S="0.05",
                     POETBOT_TELEGRAM_RETRY_MAX_S="0.2")
    proc = await asyncio.create_subprocess_exec(str(POETBOT), "serve", cwd=tmp_path, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as http:
            deadline = loop.time() + 60
            while (health := await _health(http, metrics_port)) is None or await _telegram_retries(
                    http, metrics_port) < 3:
                assert proc.returncode is None, "poetbot serve exited while the Bot API was unreachable"
                assert loop.time() < deadline, f"no health endpoint or no retries in 60 s: {health}"
                await asyncio.sleep(0.05)
            # Three getMe attempts have failed: the process is up, alive, and not ready, saying why.
            assert proc.returncode is None
            health = await _health(http, metrics_port)
            assert health is not None
            status, body = health
            assert status == 503 and body["alive"] and not body["ready"] and body["waiting_on"] == ["telegram"]
            async with fake:  # the Bot API appears on the port the bot keeps trying
                while (health := await _health(http, metrics_port)) is None or health[0] != 200:
                    assert proc.returncode is None and loop.time() < deadline + 60, health
                    await asyncio.sleep(0.05)
                assert health[1]["waiting_on"] == []
                await fake.wait_for(lambda f: ("default", "en") in f.commands, timeout=30)
                await fake.user_says(4101, "/poem 秋月 七律")
                await fake.wait_for(lambda f: len(f.chat(4101)) == 1, timeout=30)
                assert fake.chat(4101)[0].text == "正在作诗《秋月》（七律）… 排队第 1 位"
                proc.send_signal(signal.SIGTERM)
                output, _ = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    log = output.decode()
    assert proc.returncode == 0, log
    assert log.count("Bot API unreachable") == 1, log  # one WARNING for the whole outage, not one per try
    assert "Bot API answers again" in log and "Traceback" not in log and " ERROR " not in log, log
    assert fake.token not in log


# --- mid-run: the API goes away during a burst ----------------------------------------------------


@pytest.fixture
def health() -> Health:
    h = Health(stall_after_s=60.0)
    h.mark_ready()
    return h


@pytest.fixture
async def outage_bot(fake_telegram: FakeTelegram, core: ChatCore, redis_url: str,
                     health: Health) -> AsyncIterator[TelegramBot]:
    consumer = ReplyConsumer.from_settings(make_queue_settings(), "telegram", redis_url, consumer="tg-outage")
    bot = TelegramBot(core, tg_settings(fake_telegram), consumer, health)
    await bot.start()
    yield bot
    await bot.stop()
    await consumer.aclose()


async def test_an_outage_mid_burst_answers_every_request_once(
    outage_bot: TelegramBot, fake_telegram: FakeTelegram, service: PoemService, health: Health,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """30 users: 10 answered before the outage, 10 sent as the API goes away, 10 while it is away.
    Poems are published during the outage and after it. Each chat ends with one message: its poem."""
    caplog.set_level(logging.INFO)
    fake = fake_telegram
    chats = list(range(8100, 8130))
    published: set[str] = set()
    outages_before = metric("poetcore_platform_outages_total", platform="telegram")
    replies, intake = keys.reply_stream("telegram"), bot_keys.intake_stream("telegram")

    def publish_queued() -> int:
        for request in queued_requests(service):
            if request.request_id not in published:
                publish(service, PoemReply.ok(request, POEM))
                published.add(request.request_id)
        return len(published)

    assert health.ready
    for chat in chats[:10]:
        await fake.user_says(chat, "/poem 秋月")
    await fake.wait_for(lambda f: all(f.chat(c) for c in chats[:10]), 30)
    for chat in chats[10:20]:  # the burst goes on ...
        await fake.user_says(chat, "/poem 秋月")
    await fake.go_away()  # ... as the API goes away
    await until(lambda: not health.ready and not outage_bot.link.is_up, what="the bot to notice the outage")
    assert health.waiting_on() == ["telegram"]
    assert publish_queued() >= 10  # poems arrive while the API is away: delivery must hold them
    await until(lambda: pending(service, replies) >= 1, what="delivery to hold a reply during the outage")
    for chat in chats[20:]:  # Telegram keeps these for the bot until it polls again
        await fake.user_says(chat, "/poem 秋月")
    await fake.come_back()
    await until(lambda: health.ready, what="ready again once the API answers")
    await until(lambda: publish_queued() == len(chats), what="every request queued after the outage")
    poem = POEM["title"]
    await fake.wait_for(lambda f: all(any(m.text.startswith(f"《{poem}》") for m in f.chat(c)) for c in chats), 60)
    # Nothing more can be sent: every update handled and acked, every reply sent and acked.
    await until(lambda: pending(service, intake) == 0 and pending(service, replies) == 0, what="quiet streams")

    assert fake.outages == 1
    for chat in chats:
        messages = fake.chat(chat)
        assert len(messages) == 1, (chat, [(m.text, m.history) for m in messages])  # answered exactly once
        assert messages[0].text.startswith("《秋月》")
        assert all(h.startswith("正在作诗") for h in messages[0].history)
    assert service.connection.xlen(intake) == len(chats)  # each update stored once: the offset held
    edited = sum(1 for c in chats if fake.chat(c)[0].history)
    print(f"\n{len(chats)} requests across an outage: {edited} placeholders edited into poems, "
          f"{len(chats) - edited} poems sent as replies (published before their placeholder could go)")
    outages = metric("poetcore_platform_outages_total", platform="telegram") - outages_before
    warnings = [r for r in caplog.records if "Bot API unreachable" in r.getMessage()]
    assert outages >= 1 and len(warnings) == outages and all(r.levelno == logging.WARNING for r in warnings)
    assert loud(caplog.records) == []


# --- 429s: waited out, one INFO line, no ERROR --------------------------------------------------


async def test_a_429_is_waited_out_without_an_error_record(
    outage_bot: TelegramBot, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 27: PTB's AIORateLimiter logged every 429 as ERROR with a traceback."""
    caplog.set_level(logging.INFO)
    waits_before = metric("poetcore_flood_waits_total", platform="telegram")
    fake_telegram.flood("sendMessage", times=1, retry_after=1)
    await fake_telegram.user_says(8201, "/forms")
    await fake_telegram.wait_for(lambda f: len(f.chat(8201)) == 1, 30)
    assert fake_telegram.flood_refusals == 1
    assert metric("poetcore_flood_waits_total", platform="telegram") == waits_before + 1
    assert [r.getMessage() for r in caplog.records if "flood control" in r.getMessage()] == [
        "Telegram: flood control, waiting 1.0 s as asked"]
    assert loud(caplog.records) == []


async def test_a_flood_wait_past_the_limit_leaves_the_reply_for_a_quiet_retry(
    fake_telegram: FakeTelegram, core: ChatCore, service: PoemService, redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 429 longer than the bot waits: the reply stays pending (one WARNING each time, counted) and
    is delivered once the flood is over; never an ERROR with a traceback."""
    caplog.set_level(logging.INFO)
    consumer = ReplyConsumer.from_settings(make_queue_settings(reply_max_attempts=20), "telegram", redis_url,
                                           consumer="tg-flood-retry")
    bot = TelegramBot(core, tg_settings(fake_telegram, telegram_max_flood_wait_s=1), consumer)
    await bot.start()
    retries_before = metric("poetcore_delivery_retries_total", platform="telegram", reason="flood")
    try:
        await fake_telegram.user_says(8301, "/poem 秋月")
        await fake_telegram.wait_for(lambda f: len(f.chat(8301)) == 1 and f.chat_actions, 30)  # placeholder stored
        [request] = queued_requests(service)
        fake_telegram.flood("editMessageText", times=2, retry_after=60)  # longer than the 1 s the bot waits
        publish(service, PoemReply.ok(request, POEM))
        await fake_telegram.wait_for(lambda f: bool(f.chat(8301)[0].history), 60)
        await until(lambda: pending(service, keys.reply_stream("telegram")) == 0, what="the reply acked")
    finally:
        await bot.stop()
        await consumer.aclose()
    [msg] = fake_telegram.chat(8301)
    assert msg.text.startswith("《秋月》") and msg.history[0].startswith("正在作诗")
    assert metric("poetcore_delivery_retries_total", platform="telegram", reason="flood") == retries_before + 2
    retried = [r for r in caplog.records if "stays pending for a retry" in r.getMessage()]
    assert len(retried) == 2 and all(r.levelno == logging.WARNING and not r.exc_info for r in retried)
    assert loud(caplog.records) == []
