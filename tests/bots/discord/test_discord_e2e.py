"""End to end on Discord: fake Discord -> real discord.py bot -> real ChatCore -> real Redis queue ->
a worker with a tiny real model -> reply stream -> delivery -> fake Discord.

Only Discord is faked. Each test checks that one user command yields exactly one poem, in the right
place: a reply to the user's message for prefix commands, an interaction follow-up for slash
commands, and the channel once the interaction token is too old; and that Discord going away, at
start or mid-burst, costs no request its answer and gives none two.

"Exactly one" is checked once the system is quiet, which is a state, not a pause: every reply the
worker published is delivered and acknowledged (`all_delivered`), and a last message in the channel
has been answered, so every message before it was handled (`channel_drained`: one channel's
messages are handled in order).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from support.fake_discord import FakeDiscord, eventually, settle_discord_tasks, snowflake
from support.settings import make_bot_settings, make_discord_settings, make_queue_settings, make_worker_config

from bots.core import keys as bot_keys
from bots.core.chat import ChatCore
from bots.core.messages import t
from bots.core.settings import BotSettings
from bots.discord import run_discord
from poetcore.prosody.checker import check
from poetcore.text.chars import is_han
from worker.contract import keys
from worker.contract.health import Health
from worker.contract.replies import ReplyConsumer
from worker.contract.service import PoemService
from worker.in_process import WorkerThread

pytestmark = pytest.mark.timeout(90)

SENTINEL = "!forms"
"""Sent last in a channel by `channel_drained`: its answer means everything before it was handled."""


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
async def discord_bot(fake: FakeDiscord, core: ChatCore, redis_url: str, consumer: str = "discord-e2e",
                      health: Health | None = None, connected: bool = True, **overrides: object
                      ) -> AsyncIterator[asyncio.Task[None]]:
    """``run_discord`` (the production entry point) against the fake, until the block ends.

    ``connected``: wait until the gateway is up before the block starts (False: the fake may be down).
    ``overrides``: Discord settings (e.g. ``followup_window_s``).
    """
    settings = make_discord_settings(token=fake.token, api_base=fake.api_base, gateway_url=fake.gateway_url,
                                     **overrides)
    replies = ReplyConsumer.from_settings(make_queue_settings(), "discord", redis_url, consumer=consumer)
    fake.identify = None
    task = asyncio.create_task(run_discord(core, settings, replies, health, retry_first_s=0.05, retry_max_s=0.5,
                                           guild_ready_timeout=0.05))
    try:
        if connected:
            await fake.wait_for(lambda: fake.connected or task.done())
            if task.done():
                task.result()
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await replies.aclose()
        await settle_discord_tasks()  # event tasks discord.py scheduled while closing


async def all_delivered(service: PoemService) -> None:
    """Every reply published to Discord's stream was read and acknowledged: nothing more will be sent."""
    r = service.connection
    stream = keys.reply_stream("discord")

    def done() -> bool:
        if not r.exists(stream):
            return True
        last = r.xinfo_stream(stream)["last-generated-id"]
        return all(g["pending"] == 0 and g["last-delivered-id"] == last for g in r.xinfo_groups(stream))

    await eventually(done)


async def channel_drained(fake: FakeDiscord, channel_id: str | None = None) -> None:
    """Every message sent to the channel so far was handled: a last one sent after them is answered."""
    sentinel = await fake.send_message(SENTINEL, channel_id=channel_id, user_id=snowflake())
    await fake.wait_for(lambda: any(m.get("message_reference", {}).get("message_id") == int(sentinel["id"])
                                    for m in fake.channel_messages(channel_id)))


def without_sentinels(messages: list[dict]) -> list[dict]:
    """The messages minus the answers to `SENTINEL` (the list of forms)."""
    return [m for m in messages if not m["content"].startswith(t("forms_header"))]


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
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread, service: PoemService
) -> None:
    async with discord_bot(fake, core, redis_url):
        sent = await fake.send_message("!poem 秋月 七绝")
        ack, poem = await fake.wait_for(lambda: (m := fake.channel_messages()) and len(m) >= 2 and m, timeout=60)
        await all_delivered(service)
    assert ack["content"].startswith("正在作诗《秋月》（七绝）")
    assert_poem(poem["content"], "七绝", 4, 7)
    assert poem["message_reference"]["message_id"] == int(sent["id"])
    assert len(fake.bot_messages()) == 2  # one ack, one poem: nothing duplicated, nothing elsewhere
    assert fake.channel_messages(fake.other_channel_id) == []


async def test_slash_command_defers_then_poem_arrives_as_follow_up(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread, service: PoemService
) -> None:
    async with discord_bot(fake, core, redis_url):
        interaction = await fake.slash("poem", {"topic": "春风", "form": "五绝", "rhyme": "东"}, locale="en-US")
        ack, poem = await fake.wait_for(
            lambda: (f := fake.followups(interaction["token"])) and len(f) >= 2 and f, timeout=60)
        await all_delivered(service)
    assert [c.body["type"] for c in fake.callbacks(interaction["id"])] == [5]
    assert ack["content"].startswith("Writing a 五绝 on “春风”")
    assert_poem(poem["content"], "五绝", 4, 5)
    assert "rhyme group 东" in poem["content"]  # English footer, asked-for rhyme group
    assert fake.channel_messages() == [] and len(fake.bot_messages()) == 2


async def test_late_reply_goes_to_the_channel_not_the_expiring_token(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread, service: PoemService
) -> None:
    # Created two minutes ago, with a one-minute follow-up window: the ack still uses the token (it
    # lives 15 minutes), the poem must not. Minutes of margin either way, whatever the machine's load.
    async with discord_bot(fake, core, redis_url, followup_window_s=60):
        interaction = await fake.slash("poem", {"topic": "秋月"}, created_at=time.time() - 120)
        [posted] = await fake.wait_for(lambda: fake.channel_messages(), timeout=60)
        await all_delivered(service)
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
        await eventually(lambda: service.connection.xlen(keys.reply_stream("discord")), timeout=60)
    assert len(fake.channel_messages()) == 1  # nobody delivered it while the bot was down
    async with discord_bot(fake, core, redis_url):
        _ack, poem = await fake.wait_for(lambda: (m := fake.channel_messages()) and len(m) >= 2 and m, timeout=30)
        await all_delivered(service)
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
        await channel_drained(fake)  # so the chatter's (absent) answer would be in by now
    answers = without_sentinels(fake.channel_messages())
    assert [a["content"] for a in answers] == [
        t("err_topic_missing"),
        t("err_topic_latin", None, bad="autumn"),
        t("err_topic_too_long", None, length=40, limit=12),
        t("err_topic_not_han", None, bad="🌕"),
    ]
    assert report["content"].startswith("✅") and "五绝" in report["content"]
    assert service.queue_length() == 0 and len(without_sentinels(fake.bot_messages())) == 5


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
        await channel_drained(fake)
    answers = without_sentinels(fake.channel_messages())
    texts = [a["content"] for a in answers] + [followup["content"]]
    for text in texts:
        # No masked link, URL, mass mention, role ping, bidi override or markdown survives the echo.
        for bad in ("](", "://", "@everyone", "<@&", "\u202e", "**", "`", "||"):
            assert bad not in text, (bad, text)
    assert all(a["allowed_mentions"]["parse"] == [] for a in answers)  # and Discord would not ping anyway
    assert service.queue_length() == 0 and len(without_sentinels(fake.bot_messages())) == 3


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
        assert holders == {bot_keys.interaction_token(s["id"]).encode() for s in slashes}
        await fake.wait_for(lambda: all(len(fake.followups(s["token"])) >= 2 for s in slashes)
                            and len(fake.channel_messages()) >= 6, timeout=60)
        await all_delivered(service)
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


async def test_ci_slash_command_and_a_titled_ci_check(
    fake: FakeDiscord, core: ChatCore, redis_url: str, worker: WorkerThread
) -> None:
    async with discord_bot(fake, core, redis_url):
        ci = await fake.slash("ci", {"cipai": "如梦令", "topic": "春晚"})
        xu = await fake.slash("xu", {"lines": "春眠不觉晓，处处闻啼鸟"})
        listing = await fake.slash("ci", {})
        checked = await fake.slash("check", {"poem": "如梦令 常记溪亭日暮，沉醉不知归路。兴尽晚回舟，误入藕花深处。"
                                                     "争渡，争渡，惊起一滩鸥鹭。"})
        _ack, poem = await fake.wait_for(lambda: (f := fake.followups(ci["token"])) and len(f) >= 2 and f, timeout=90)
        _ack3, ze = await fake.wait_for(lambda: (f := fake.followups(xu["token"])) and len(f) >= 2 and f, timeout=90)
        [tunes] = await fake.wait_for(lambda: fake.followups(listing["token"]))
        [report] = await fake.wait_for(lambda: fake.followups(checked["token"]))
    text = poem["content"]
    assert text.startswith("《如梦令·春晚》") and "词林正韵" in text, text
    body = "".join(text.split("\n\n")[0].splitlines()[1:])
    rows = [seg for seg in re.split("[，。]", body) if seg]
    assert [len(seg) for seg in rows] == [6, 6, 5, 6, 2, 2, 6] and rows[4] == rows[5]  # 叠句: 争渡，争渡
    assert "如梦令：33 字" in tunes["content"] and len(tunes["content"]) <= 2000
    # 仄韵 lines go on in their own rhyme (上声筿), as a 仄韵 绝句, without a word about faults.
    assert "五绝仄韵" in ze["content"] and "上声筿" in ze["content"] and "注意" not in ze["content"], ze["content"]
    assert poem_lines(ze["content"])[:2] == ["春眠不觉晓", "处处闻啼鸟"]
    assert "如梦令" in report["content"] and "✅" in report["content"], report["content"]


# --------------------------------------------------------------------------- Discord going away
def platform_retries() -> float:
    return REGISTRY.get_sample_value("poetcore_platform_retries_total", {"platform": "discord"}) or 0.0


def delivery_retries() -> float:
    labels = {"platform": "discord", "reason": "unavailable"}
    return REGISTRY.get_sample_value("poetcore_delivery_retries_total", labels) or 0.0


def noop_worker(redis_url: str, name: str) -> WorkerThread:
    """A worker whose "poems" are the topic laid out in the form's shape: the plumbing is under test."""
    return WorkerThread(redis_url, make_worker_config(composer="noop", log_format="text"), name=name)


async def test_bot_started_before_discord_waits_for_it_then_serves(
    fake: FakeDiscord, core: ChatCore, redis_url: str, service: PoemService
) -> None:
    await fake.go_down()
    health = Health(stall_after_s=30)
    health.mark_ready()
    before = platform_retries()
    async with discord_bot(fake, core, redis_url, health=health, connected=False) as bot:
        await eventually(lambda: platform_retries() >= before + 3)  # three logins refused ...
        assert not bot.done() and health.waiting_on() == ["discord"]  # ... and the bot still up, not ready
        await fake.come_back()
        await fake.wait_for(lambda: fake.connected)
        await eventually(lambda: health.ready)
        sent = await fake.send_message("!forms")
        [answer] = await fake.wait_for(lambda: fake.channel_messages())
    assert answer["content"].startswith(t("forms_header"))
    assert answer["message_reference"]["message_id"] == int(sent["id"])
    assert fake.identifies == 1


async def test_discord_gone_mid_burst_then_back_every_request_answered_once(
    fake: FakeDiscord, core: ChatCore, redis_url: str, service: PoemService, caplog: pytest.LogCaptureFixture
) -> None:
    health = Health(stall_after_s=30)
    health.mark_ready()
    stream = keys.reply_stream("discord")
    before_retries = delivery_retries()
    async with discord_bot(fake, core, redis_url, health=health) as bot:
        await eventually(lambda: health.ready)
        prefixed = [await fake.send_message(f"!poem {topic} 五绝", user_id=snowflake()) for topic in ("春风", "秋月")]
        slashes = [await fake.slash("poem", {"topic": topic, "form": "五绝"}, user_id=snowflake())
                   for topic in ("江雪", "山行")]
        await fake.wait_for(lambda: len(fake.channel_messages()) == 2
                            and all(fake.followups(s["token"]) for s in slashes))  # every request queued
        await fake.go_down()  # gateway and REST: connections refused from now on
        before = platform_retries()
        with noop_worker(redis_url, "e2e-discord-outage"):
            await eventually(lambda: service.connection.xlen(stream) == 4)  # all four poems published ...
            # ... and their delivery refused, then probed five times: the probes' back-off floors
            # (25 + 50 + 100 + 200 + 250 ms) outlast the reply's delivery window (half the 500 ms lease),
            # so the reply in hand goes back to the stream and comes round again.
            await eventually(lambda: platform_retries() >= before + 6)
            assert not bot.done() and not health.ready
            await fake.come_back()
            # discord.py reconnects the gateway itself (its own back-off, up to a few seconds here).
            await fake.wait_for(lambda: fake.identifies == 2 and fake.connected, timeout=60)
            await fake.wait_for(lambda: len(fake.channel_messages()) == 4
                                and all(len(fake.followups(s["token"])) == 2 for s in slashes), timeout=60)
            await eventually(lambda: health.ready)
            after = await fake.send_message("!poem 夜雨 五绝", user_id=snowflake())  # served again
            await fake.wait_for(lambda: len(fake.channel_messages()) == 6, timeout=60)
            await all_delivered(service)
    posts = fake.channel_messages()
    for request in [*prefixed, after]:
        answers = [m for m in posts if m.get("message_reference", {}).get("message_id") == int(request["id"])]
        assert [m["content"][:4] for m in answers] == ["正在作诗", "《" + answers[1]["content"][1:4]], answers
    for s in slashes:
        ack, poem = fake.followups(s["token"])
        assert ack["content"].startswith("正在作诗") and poem["content"].startswith("《")
    assert len(fake.bot_messages()) == 10  # 5 requests: one acknowledgement and one poem each, none twice
    assert delivery_retries() >= before_retries + 1  # the reply handed back during the outage, sent later
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # an outage is no error
