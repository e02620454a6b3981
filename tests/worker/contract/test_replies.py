"""Reply streams (worker.replies): publish once, consume with a group, deliver once."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis
from prometheus_client import REGISTRY
from support.workers import collect

from worker.contract import keys
from worker.contract.connection import connect_async
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.replies import ReplyConsumer, ReplyPublisher


def reply(n: int = 0, platform: str = "telegram") -> PoemReply:
    req = PoemRequest(platform=platform, chat_id=f"c{n}", user_id="u", topic="雪", route={"n": n})
    return PoemReply.ok(req, {"title": "雪", "lines": ["一"] * 4, "form": "七绝", "text": f"poem {n}"})


def consumer(redis_url: str, name: str = "bot-a", **kw: object) -> ReplyConsumer:
    opts: dict[str, object] = {"consumer": name, "block_ms": 100, "claim_idle_ms": 300}
    opts.update(kw)
    return ReplyConsumer(connect_async(redis_url, block_s=1), "telegram", **opts)  # type: ignore[arg-type]


def test_publish_is_once_per_request(redis_client: redis.Redis) -> None:
    pub = ReplyPublisher(redis_client, maxlen=100)
    r = reply()
    first = pub.publish(r)
    assert first is not None and pub.is_answered(r.request_id)
    assert pub.publish(r) is None  # a second run of the same job
    assert pub.publish(PoemReply.failure(r.model_dump(mode="json"), "internal")) is None
    assert redis_client.xlen(keys.reply_stream("telegram")) == 1
    assert redis_client.get(keys.published(r.request_id)) == first.encode()


def test_stream_is_capped(redis_client: redis.Redis) -> None:
    pub = ReplyPublisher(redis_client, maxlen=100)
    for i in range(400):
        pub.publish(reply(i))
    assert 100 <= redis_client.xlen(keys.reply_stream("telegram")) < 400  # MAXLEN ~ trims by whole nodes


async def test_end_to_end_delivery_and_ack(redis_url: str, redis_client: redis.Redis) -> None:
    pub = ReplyPublisher(redis_client)
    sent = [reply(i) for i in range(3)]
    for r in sent:
        pub.publish(r)
    got = await collect(consumer(redis_url), 3)
    assert [g.request_id for g in got] == [r.request_id for r in sent]
    assert redis_client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 0
    assert all(redis_client.get(keys.send_state("telegram", r.request_id)) == b"sent" for r in sent)


async def test_replies_published_while_bot_was_down_are_delivered(redis_url: str, redis_client: redis.Redis) -> None:
    # the group does not exist yet: the first consumer must still see earlier replies
    ReplyPublisher(redis_client).publish(reply(1))
    got = await collect(consumer(redis_url), 1)
    assert got[0].route == {"n": 1}


async def test_restarted_consumer_rereads_its_own_pending(redis_url: str, redis_client: redis.Redis) -> None:
    ReplyPublisher(redis_client).publish(reply(1))
    crashed = consumer(redis_url, "bot-a")
    got = await collect(crashed, 1, ack=False)  # read, then "crash" before sending
    assert len(got) == 1
    assert redis_client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 1
    restarted = consumer(redis_url, "bot-a", claim_idle_ms=60000)  # same name: no claim delay needed
    again = await collect(restarted, 1, timeout=3)
    assert again[0].request_id == got[0].request_id
    assert redis_client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 0


async def test_pending_of_a_crashed_consumer_is_claimed(redis_url: str, redis_client: redis.Redis) -> None:
    r = reply(1)
    stream = keys.reply_stream("telegram")
    ReplyPublisher(redis_client).publish(r)
    await collect(consumer(redis_url, "bot-dead", lease_ms=200), 1, ack=False)
    # Not stolen before it has been idle claim_idle_ms: a consumer that waits an hour for that takes
    # nothing, however long it reads.
    patient = consumer(redis_url, "bot-b", claim_idle_ms=3_600_000)
    assert await collect(patient, 0, linger=0.3) == []
    assert [e["consumer"] for e in redis_client.xpending_range(stream, "bots", "-", "+", 10)] == [b"bot-dead"]
    got = await collect(consumer(redis_url, "bot-b", claim_idle_ms=300), 1, timeout=10)
    assert got[0].request_id == r.request_id
    assert redis_client.xpending_range(stream, "bots", "-", "+", 10) == []


async def test_duplicate_entries_reach_the_handler_once(redis_url: str, redis_client: redis.Redis) -> None:
    r = reply(1)
    stream = keys.reply_stream("telegram")
    for _ in range(3):  # e.g. the publish marker expired and a stale job ran again
        redis_client.xadd(stream, {"request_id": r.request_id, "reply": r.to_json()})
    # read until every entry is settled (duplicates acked, not left behind): a second hand-out would
    # have arrived by then
    got = await collect(consumer(redis_url), 1, until=lambda: redis_client.xpending(stream, "bots")["pending"] == 0)
    assert len(got) == 1


async def test_two_consumers_never_both_send(redis_url: str, redis_client: redis.Redis) -> None:
    pub = ReplyPublisher(redis_client)
    sent = {f"c{i}" for i in range(20) if pub.publish(reply(i))}
    a, b = consumer(redis_url, "bot-a"), consumer(redis_url, "bot-b")
    got: dict[str, list[PoemReply]] = {"a": [], "b": []}

    async def read(name: str, c: ReplyConsumer) -> None:
        async for claimed in c.replies():
            got[name].append(claimed.reply)
            await c.ack(claimed)

    tasks = [asyncio.create_task(read("a", a)), asyncio.create_task(read("b", b))]
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while sum(map(len, got.values())) < len(sent) or redis_client.xpending(
                keys.reply_stream("telegram"), "bots")["pending"]:  # until all 20 are sent and acked
            assert asyncio.get_running_loop().time() < deadline, got
            await asyncio.sleep(0.02)
    finally:
        a.stop()
        b.stop()
        await asyncio.gather(*tasks)
    chats = [g.chat_id for g in got["a"] + got["b"]]
    assert sorted(chats) == sorted(sent)  # each exactly once, whichever consumer sent it


async def test_failed_send_is_retried_then_dropped(redis_url: str, redis_client: redis.Redis,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    r = reply(1)
    ReplyPublisher(redis_client).publish(r)
    c = consumer(redis_url, claim_idle_ms=50, max_attempts=3)
    attempts: list[str] = []
    released_before = REGISTRY.get_sample_value("poetcore_replies_released_total", {"platform": "telegram"}) or 0.0

    async def always_fails(rep: PoemReply) -> None:
        attempts.append(rep.request_id)
        raise RuntimeError("chat API said 403")

    caplog.set_level(logging.INFO, logger="worker.contract.replies")
    task = asyncio.create_task(c.run(always_fails))
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while redis_client.get(keys.send_state("telegram", r.request_id)) != b"dropped":
            assert asyncio.get_running_loop().time() < deadline, attempts
            await asyncio.sleep(0.02)
    finally:
        c.stop()
        await asyncio.wait_for(task, 10)
    assert attempts == [r.request_id] * 3
    assert redis_client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 0
    # each retried send: one WARNING line without a traceback, counted; the drop: one ERROR
    retried = [rec for rec in caplog.records if "stays pending for a retry" in rec.getMessage()]
    assert [(rec.levelno, rec.exc_info) for rec in retried] == [(logging.WARNING, None)] * 3
    assert [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR] == [
        f"replies: giving up on {r.request_id} after 3 failed sends"]
    assert REGISTRY.get_sample_value("poetcore_replies_released_total", {"platform": "telegram"}) == \
        released_before + 3


async def test_run_acks_after_handler(redis_url: str, redis_client: redis.Redis) -> None:
    ReplyPublisher(redis_client).publish(reply(1))
    c = consumer(redis_url)
    seen: list[PoemReply] = []

    async def handler(rep: PoemReply) -> None:
        assert redis_client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 1  # not acked yet
        seen.append(rep)
        c.stop()

    await asyncio.wait_for(c.run(handler), 5)
    assert len(seen) == 1
    assert redis_client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 0


async def test_unreadable_entries_are_dropped(redis_url: str, redis_client: redis.Redis) -> None:
    stream = keys.reply_stream("telegram")
    redis_client.xadd(stream, {"request_id": "x", "reply": "{not json"})
    ReplyPublisher(redis_client).publish(reply(2))
    got = await collect(consumer(redis_url), 1)
    assert got[0].route == {"n": 2}
    assert redis_client.xpending(stream, "bots")["pending"] == 0


def test_streams_are_per_platform(redis_client: redis.Redis) -> None:
    ReplyPublisher(redis_client).publish(reply(1, "discord"))
    assert redis_client.xlen(keys.reply_stream("discord")) == 1
    assert redis_client.xlen(keys.reply_stream("telegram")) == 0
