"""End to end on Discord: fake Discord -> real discord.py bot -> real ChatCore -> real Redis queue ->
a worker with a tiny real model -> reply stream -> delivery -> fake Discord.

Only Discord is faked. Each test checks that one user command yields exactly one poem, in the right
place: a reply to the user's message for prefix commands, an interaction follow-up for slash
commands, and the channel once the interaction token is too old.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from support.fake_discord import FakeDiscord, snowflake
from support.settings import make_bot_settings, make_discord_settings, make_queue_settings, make_worker_config

from bots.core.chat import ChatCore
from bots.core.messages import t
from bots.core.settings import BotSettings
from bots.discord import run_discord
from poetcore.chars import is_han
from poetcore.checker import check
from worker.contract import keys
from worker.contract.replies import ReplyConsumer
from worker.contract.service import PoemService
from worker.in_process import WorkerThread

pytestmark = pytest.mark.timeout(90)

# Long enough for any extra (duplicate) message to have shown up after the expected ones.
LINGER_S = 0.5


@pytest.fixture
def bot_settings() -> BotSettings:
    """One candidate per poem: the tiny model's quality is not under test, the plumbing is."""
    return make_bot_settings(candidates=1)


@pytest.fixture
def worker(redis_url: str, tiny_model_dir: Path) -> Iterator[WorkerThread]:
    config = make_worker_config(model=tiny_model_dir, device="cpu", log_format="text")
    with WorkerThread(redis_url, config, name="e2e-discord") as thread:
        yield thread


@contextlib.asynccontextmanager
async def discord_bot(fake: FakeDiscord, core: ChatCore, redis_url: str, consumer: str = "discord-e2e"
                      ) -> AsyncIterator[asyncio.Task[None]]:
    """``run_discord`` (the production entry point) against the fake, until the block ends."""
    settings = make_discord_settings(token=fake.token, api_base=fake.api_base, gateway_url=fake.gateway_url)
    replies = ReplyConsumer.from_settings(make_queue_settings(), "discord", redis_url, consumer=consumer)
    fake.identify = None
    task = asyncio.create_task(run_discord(core, settings, replies))
    try:
        await fake.wait_for(lambda: fake.connected or task.done())
        if task.done():
            task.result()
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await replies.aclose()
        await asyncio.sleep(0.01)  # let event tasks discord.py scheduled while closing finish


def poem_lines(text: str) -> list[str]:
    """The verse lines of a rendered poem: after the 《title》 line, up to the blank line."""
    head, _, _footer = text.partition("\n\n")
    title, *lines = head.split("\n")
    assert title.startswith("《") and title.endswith("》"), text
    return [line.rstrip("，。") for line in lines]


def assert_poem(text: str, form: str, n_lines: int, length: int) -> None:
    lines = poem_lines(text)
    assert len(lines) == n_lines and all(len(line) == length and all(map(is_han, line)) for line in lines), text
    assert form in text.rsplit("\n", 1)[-1], text
    assert check("，".join(lines), form).ok, text


async def test_prefix_command_is_acknowledged_then_answered_once(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread
) -> None:
    async with discord_bot(fake, core, redis_url):
        sent = await fake.send_message("!poem 秋月 七绝")
        ack, poem = await fake.wait_for(lambda: (m := fake.channel_messages()) and len(m) >= 2 and m, timeout=60)
        await asyncio.sleep(LINGER_S)
    assert ack["content"].startswith("正在作诗《秋月》（七绝）")
    assert_poem(poem["content"], "七绝", 4, 7)
    assert poem["message_reference"]["message_id"] == int(sent["id"])
    assert len(fake.bot_messages()) == 2  # one ack, one poem: nothing duplicated, nothing elsewhere
    assert fake.channel_messages(fake.other_channel_id) == []


async def test_slash_command_defers_then_poem_arrives_as_follow_up(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread
) -> None:
    async with discord_bot(fake, core, redis_url):
        interaction = await fake.slash("poem", {"topic": "春风", "form": "五绝", "rhyme": "东"}, locale="en-US")
        ack, poem = await fake.wait_for(
            lambda: (f := fake.followups(interaction["token"])) and len(f) >= 2 and f, timeout=60)
        await asyncio.sleep(LINGER_S)
    assert [c.body["type"] for c in fake.callbacks(interaction["id"])] == [5]
    assert ack["content"].startswith("Writing a 五绝 on “春风”")
    assert_poem(poem["content"], "五绝", 4, 5)
    assert "rhyme group 东" in poem["content"]  # English footer, asked-for rhyme group
    assert fake.channel_messages() == [] and len(fake.bot_messages()) == 2


async def test_late_reply_goes_to_the_channel_not_the_expiring_token(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread
) -> None:
    async with discord_bot(fake, core, redis_url):
        # Created 14.5 minutes ago: the ack still uses the token, the poem must not.
        interaction = await fake.slash("poem", {"topic": "秋月"}, created_at=time.time() - 14.5 * 60)
        [posted] = await fake.wait_for(lambda: fake.channel_messages(), timeout=60)
        await asyncio.sleep(LINGER_S)
    [ack] = fake.followups(interaction["token"])
    assert ack["content"].startswith("正在作诗《秋月》")
    assert posted["content"].startswith(f"<@{fake.user_id}> 《")
    assert_poem(posted["content"].split(" ", 1)[1], "七绝", 4, 7)
    assert len(fake.bot_messages()) == 2


async def test_reply_pending_across_a_bot_restart_is_delivered_once(
    fake: FakeDiscord, core: ChatCore, redis_url: str, service: PoemService, tiny_model_dir: Path
) -> None:
    async with discord_bot(fake, core, redis_url):
        sent = await fake.send_message("!poem 明月")
        await fake.wait_for(lambda: fake.channel_messages())
    # The bot is down; the worker comes up and publishes the poem meanwhile.
    config = make_worker_config(model=tiny_model_dir, device="cpu", log_format="text")
    with WorkerThread(redis_url, config, name="e2e-discord-restart"):
        deadline = time.monotonic() + 60
        while not service.connection.xlen(keys.reply_stream("discord")):
            assert time.monotonic() < deadline, "the worker published no reply"
            await asyncio.sleep(0.05)
    assert len(fake.channel_messages()) == 1  # nobody delivered it while the bot was down
    async with discord_bot(fake, core, redis_url):
        _ack, poem = await fake.wait_for(lambda: (m := fake.channel_messages()) and len(m) >= 2 and m, timeout=30)
        await asyncio.sleep(LINGER_S)
    assert_poem(poem["content"], "七绝", 4, 7)
    assert poem["message_reference"]["message_id"] == int(sent["id"])
    assert len(fake.channel_messages()) == 2


async def test_mistakes_and_check_are_answered_at_once_without_the_queue(
    fake: FakeDiscord, core: ChatCore, redis_url: str, service: PoemService
) -> None:
    async with discord_bot(fake, core, redis_url):
        await fake.send_message("!poem")
        await fake.send_message("!poem autumn moon")
        await fake.send_message("!poem " + "秋" * 40)
        await fake.send_message("!poem 秋月 🌕")
        slash = await fake.slash("check", {"poem": "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"}, locale="en-US")
        await fake.send_message("hello everyone")  # ordinary chatter: no answer
        answers = await fake.wait_for(lambda: (m := fake.channel_messages()) and len(m) >= 4 and m)
        [report] = await fake.wait_for(lambda: fake.followups(slash["token"]))
        await asyncio.sleep(LINGER_S)
    assert [a["content"] for a in answers] == [
        t("err_topic_missing"),
        t("err_topic_latin", None, bad="autumn"),
        t("err_topic_too_long", None, length=40, limit=12),
        t("err_topic_not_han", None, bad="🌕"),
    ]
    assert report["content"].startswith("✅") and "五绝" in report["content"]
    assert service.queue_length() == 0 and len(fake.bot_messages()) == 5


async def test_bad_token_and_missing_intent_stop_with_a_fix(fake: FakeDiscord, core: ChatCore, redis_url: str) -> None:
    from bots.discord import DiscordSetupError

    base = {"api_base": fake.api_base, "gateway_url": fake.gateway_url}
    with pytest.raises(DiscordSetupError, match="Reset Token"):
        await run_discord(core, make_discord_settings(token="wrong", **base), None)
    fake.allow_message_content = False
    with pytest.raises(DiscordSetupError, match=re.escape("DISCORD_MESSAGE_CONTENT=false")):
        await asyncio.wait_for(run_discord(core, make_discord_settings(token=fake.token, **base), None), 10)
    with pytest.raises(DiscordSetupError, match="DISCORD_TOKEN is not set"):
        await run_discord(core, make_discord_settings(token=None, **base), None)


async def test_markup_and_controls_in_echoed_input_stay_inert(
    fake: FakeDiscord, core: ChatCore, redis_url: str, service: PoemService
) -> None:
    async with discord_bot(fake, core, redis_url):
        await fake.send_message("!poem [点我](https://evil.example/x) @everyone")
        await fake.send_message("!poem 秋\u202e月**粗**`码`")
        slash = await fake.slash("poem", {"topic": "<@&123>||剧透||"}, locale="en-US")
        answers = await fake.wait_for(lambda: (m := fake.channel_messages()) and len(m) >= 2 and m)
        [followup] = await fake.wait_for(lambda: fake.followups(slash["token"]))
        await asyncio.sleep(LINGER_S)
    texts = [a["content"] for a in answers] + [followup["content"]]
    for text in texts:
        # No masked link, URL, mass mention, role ping, bidi override or markdown survives the echo.
        for bad in ("](", "://", "@everyone", "<@&", "\u202e", "**", "`", "||"):
            assert bad not in text, (bad, text)
    assert all(a["allowed_mentions"]["parse"] == [] for a in answers)  # and Discord would not ping anyway
    assert service.queue_length() == 0 and len(fake.bot_messages()) == 3


async def test_slash_poems_under_rate_limits_arrive_once_each_and_tokens_leave_no_trace(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread, service: PoemService
) -> None:
    fake.rate_limits = {"channel": (3, 1.0), "webhook": (2, 1.0)}
    topics = ["春风", "秋月", "江雪", "山行", "夜雨", "落花"]
    async with discord_bot(fake, core, redis_url):
        slashes = [await fake.slash("poem", {"topic": topic, "form": "五绝"}, user_id=snowflake()) for topic in topics[:3]]
        prefixed = [await fake.send_message(f"!poem {topic} 五绝", user_id=snowflake()) for topic in topics[3:]]
        # The tokens wait in Redis for the follow-ups and nowhere else: not in job payloads or replies.
        for s in slashes:
            await fake.wait_for(lambda s=s: fake.followups(s["token"]))
        holders = {key for key in service.connection.scan_iter()
                   if any(s["token"].encode() in _dump(service.connection, key) for s in slashes)}
        assert holders == {keys.interaction_token(s["id"]).encode() for s in slashes}
        await fake.wait_for(lambda: all(len(fake.followups(s["token"])) >= 2 for s in slashes)
                            and len(fake.channel_messages()) >= 6, timeout=60)
        await asyncio.sleep(LINGER_S)
    for s in slashes:
        _ack, poem = fake.followups(s["token"])
        assert_poem(poem["content"], "五绝", 4, 5)
    replies = [m for m in fake.channel_messages() if m.get("message_reference")]
    assert sorted(m["message_reference"]["message_id"] for m in replies if m["content"].startswith("《")) == sorted(
        int(p["id"]) for p in prefixed)
    assert len(fake.bot_messages()) == 12  # 6 acks + 6 poems: none lost, none twice, despite the limits


def _dump(connection: object, key: bytes) -> bytes:
    """Every byte a key holds, whatever its type (for the token scan)."""
    r = connection
    kind = r.type(key)  # type: ignore[attr-defined]
    if kind == b"string":
        return r.get(key) or b""  # type: ignore[attr-defined]
    if kind == b"hash":
        return b"".join(k + v for k, v in r.hgetall(key).items())  # type: ignore[attr-defined]
    if kind == b"list":
        return b"".join(r.lrange(key, 0, -1))  # type: ignore[attr-defined]
    if kind in (b"set", b"zset"):
        return b"".join(r.zrange(key, 0, -1) if kind == b"zset" else r.smembers(key))  # type: ignore[attr-defined]
    if kind == b"stream":
        return b"".join(k + v for _id, fields in r.xrange(key) for k, v in fields.items())  # type: ignore[attr-defined]
    return b""


async def test_xu_and_dui_slash_commands_keep_the_users_line(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread
) -> None:
    async with discord_bot(fake, core, redis_url):
        xu = await fake.slash("xu", {"lines": "白日依山尽", "form": "五绝"})
        dui = await fake.slash("dui", {"line": "春风又绿江南岸"})
        _ack, poem = await fake.wait_for(lambda: (f := fake.followups(xu["token"])) and len(f) >= 2 and f, timeout=90)
        _ack2, couplet = await fake.wait_for(
            lambda: (f := fake.followups(dui["token"])) and len(f) >= 2 and f, timeout=90)
    assert_poem(poem["content"], "五绝", 4, 5)
    assert poem_lines(poem["content"])[0] == "白日依山尽"
    first, second = (line.rstrip("，。") for line in couplet["content"].split("\n")[:2])
    assert first == "春风又绿江南岸" and len(second) == 7 and "对句" in couplet["content"]
