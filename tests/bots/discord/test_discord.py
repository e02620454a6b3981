"""The Discord front-end against a local fake Discord (real discord.py client, real wire protocol).

These tests pin the adapter: gateway start-up, command sync, prefix and slash commands with defer and
follow-up, one channel's events in order, where late replies go, and Discord going away (gateway,
REST, lost answers). The chat core here is a small recording stand-in so each test controls what the
core answers; test_discord_e2e.py runs the real core and queue.

Every wait is on an event (the fake records a call, the stand-in core sees a message) or on state;
none is a sleep guessed against the machine's load.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import discord
import pytest
import redis
from support.fake_discord import MESSAGE_CONTENT_INTENT, FakeDiscord, eventually, settle_discord_tasks

from bots.core import keys
from bots.core.backoff import Backoff
from bots.core.commands import CommandError, CommandOptions, build_command, parse_command
from bots.core.delivery import PermanentDeliveryError, TransientDeliveryError
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import DiscordSettings, load_bot_config
from bots.core.store import BotStore
from bots.discord import PoetClient, build_client
from bots.discord.commands import FORMS, SLASH_COMMANDS
from bots.discord.link import DiscordLink
from bots.discord.order import ChannelOrder, Turn
from bots.discord.sender import MAX_MESSAGE_CHARS, split_text
from worker.contract.health import Health
from worker.contract.protocol import PoemReply, PoemRequest


class RecordingCore:
    """Stand-in chat core: records each message and answers with a text naming what it got.

    ``gates``: text -> event the answer to that text waits for, so a test holds one command mid-way
    and sees what the client does meanwhile. ``log`` records ("start"|"end", text) in order.
    """

    def __init__(self, fail: bool = False, silent: bool = False) -> None:
        self.received: list[IncomingMessage] = []
        self.options: list[CommandOptions | None] = []
        self.callbacks_seen: list[int] = []  # interaction callbacks already made when handle() ran
        self.fake: FakeDiscord | None = None
        self.fail = fail
        self.silent = silent
        self.gates: dict[str, asyncio.Event] = {}
        self.log: list[tuple[str, str]] = []
        self.boards: list[tuple[str, str, str]] = []
        self._changed = asyncio.Condition()

    @staticmethod
    def label(msg: IncomingMessage, options: CommandOptions | None) -> str:
        if options is None:
            return msg.text
        return " ".join([msg.text, *(f"{k}={v}" for k, v in options.values.items() if v not in (None, False))])

    async def handle(self, msg: IncomingMessage, options: CommandOptions | None = None) -> list[OutgoingMessage]:
        label = self.label(msg, options)
        self.received.append(msg)
        self.options.append(options)
        await self._record("start", label)
        if self.fake is not None and msg.route and msg.route.get("kind") == "interaction":
            self.callbacks_seen.append(len(self.fake.callbacks(msg.route["interaction_id"])))
        if label in self.gates:
            await self.gates[label].wait()
        await self._record("end", label)
        if self.fail:
            raise RuntimeError("core exploded")
        if self.silent:
            return []
        return [OutgoingMessage(chat_id=msg.chat_id, text=f"ack:{label}", request_id="r1")]

    async def _record(self, what: str, label: str) -> None:
        async with self._changed:
            self.log.append((what, label))
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], object], timeout: float = 30.0) -> None:
        """Until ``predicate()`` holds, re-checked whenever the core records something."""

        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(_wait(), timeout)

    def started(self) -> list[str]:
        return [label for what, label in self.log if what == "start"]

    def command_descriptions(self, locale: str) -> list[tuple[str, str]]:
        return [("poem", f"core {locale} poem"), ("start", "not a slash command")]

    async def remember_board(self, platform: str, board_key: str, message_id: str) -> None:
        self.boards.append((platform, board_key, message_id))


def fast_link(health: Health | None = None) -> DiscordLink:
    """A link that retries within tens of milliseconds: outages in these tests last a moment."""
    return DiscordLink(health, retry_first_s=0.02, retry_max_s=0.2)


def settings_for(fake: FakeDiscord, **overrides: object) -> DiscordSettings:
    return DiscordSettings(token=fake.token, api_base=fake.api_base, gateway_url=fake.gateway_url, **overrides)


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, core: RecordingCore, store: BotStore | None = None,
                  link: DiscordLink | None = None, **overrides: object) -> AsyncIterator[PoetClient]:
    """Start a real client against the fake and wait until the gateway is up (READY sent)."""
    core.fake = fake
    client = build_client(core, settings_for(fake, **overrides), store=store, guild_ready_timeout=0.05,
                          link=link or fast_link())
    task = asyncio.create_task(client.start(fake.token))
    try:
        await fake.wait_for(lambda: fake.connected or task.done())
        if task.done():
            task.result()
        yield client
    finally:
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        await settle_discord_tasks()  # event tasks discord.py scheduled while closing


# --------------------------------------------------------------------------- start-up
async def test_start_syncs_slash_commands_and_identifies_with_message_content(fake: FakeDiscord) -> None:
    core = RecordingCore()
    async with running(fake, core) as client:
        assert {c["name"] for c in fake.commands} == set(SLASH_COMMANDS)
        poem = next(c for c in fake.commands if c["name"] == "poem")
        options = {o["name"]: o for o in poem["options"]}
        assert options["topic"]["required"] is True and options["topic"]["type"] == 3
        assert [ch["value"] for ch in options["form"]["choices"]] == list(FORMS)
        assert options["traditional"]["type"] == 5 and not options["traditional"].get("required")
        # English clients see English; the core's own description wins for commands it describes.
        assert poem["description"] == "core zh poem"
        assert poem["description_localizations"]["en-US"] == "core en poem"
        assert "Topic" in options["topic"]["description_localizations"]["en-GB"]
        assert "zh-CN" not in poem.get("description_localizations", {})  # Chinese is the default text
        assert all(len(c["description"]) <= 100 for c in fake.commands)
        assert fake.identify is not None and fake.identify["intents"] & MESSAGE_CONTENT_INTENT
        # Sync happens in setup_hook, i.e. before the gateway connection.
        assert fake.find("PUT", rf"/applications/{fake.application_id}/commands")
        await asyncio.wait_for(client.wait_until_ready(), 30)
        assert [g.id for g in client.guilds] == [int(fake.guild_id)]
        assert client.user is not None and str(client.user.id) == fake.bot_id
    assert core.received == []


async def test_without_message_content_intent_the_gateway_does_not_ask_for_it(fake: FakeDiscord) -> None:
    fake.allow_message_content = False
    async with running(fake, RecordingCore(), message_content=False):
        assert fake.identify is not None
        assert not fake.identify["intents"] & MESSAGE_CONTENT_INTENT


# --------------------------------------------------------------------------- prefix commands
async def test_prefix_command_reaches_core_and_reply_quotes_the_users_message(fake: FakeDiscord) -> None:
    core = RecordingCore()
    async with running(fake, core):
        sent = await fake.send_message("!poem 秋月 七绝")
        [reply] = await fake.wait_for(lambda: fake.channel_messages())
    [msg] = core.received
    assert (msg.platform, msg.chat_id, msg.user_id, msg.text) == ("discord", fake.channel_id, fake.user_id, "!poem 秋月 七绝")
    assert msg.message_id == sent["id"] and msg.is_group is True
    assert msg.route == {"kind": "message", "channel_id": fake.channel_id, "message_id": sent["id"],
                         "guild_id": fake.guild_id, "user_id": fake.user_id}
    assert reply["content"] == "ack:!poem 秋月 七绝"
    assert reply["message_reference"]["message_id"] == int(sent["id"])
    assert reply["allowed_mentions"]["parse"] == []  # echoed text can never ping @everyone


async def test_custom_prefix_mentions_and_bots(fake: FakeDiscord) -> None:
    core = RecordingCore()
    async with running(fake, core, prefix="?"):
        await fake.send_message("?poem 秋月", bot=True)  # other bots are ignored
        await fake.send_message("?poem 秋月")
        await fake.send_message(f"<@{fake.bot_id}> cang 春夏秋冬", mention_bot=True)
        await fake.send_message(f"<@!{fake.bot_id}>", mention_bot=True)
        await fake.send_message("作诗 秋月", guild=False)  # a DM: plain text goes to the core as is
        await fake.wait_for(lambda: len(fake.bot_messages()) == 4)
    assert [m.text for m in core.received] == ["!poem 秋月", "!cang 春夏秋冬", "!help", "作诗 秋月"]
    assert [m.is_group for m in core.received] == [True, False, False, False]  # a mention is addressed to us


# --------------------------------------------------------------------------- slash commands
async def test_slash_command_is_deferred_then_answered_by_follow_up(fake: FakeDiscord, redis_client: redis.Redis) -> None:
    core = RecordingCore()
    async with running(fake, core, BotStore(redis_client)):
        before = time.time()
        interaction = await fake.slash("poem", {"topic": "秋月", "form": "七绝", "rhyme": "东", "traditional": True},
                                       locale="en-US")
        [followup] = await fake.wait_for(lambda: fake.followups(interaction["token"]))
    [callback] = fake.callbacks(interaction["id"])
    assert callback.body["type"] == 5 and callback.query.get("with_response") in ("1", "true")
    assert core.callbacks_seen == [1]  # deferred before the core (and the queue) was consulted
    assert followup["content"] == "ack:/poem topic=秋月 form=七绝 rhyme=东 traditional=True"
    # The options reach the core typed, as Discord sent them: nothing was written out and re-read.
    assert core.options == [CommandOptions("poem", {"topic": "秋月", "form": "七绝", "rhyme": "东",
                                                    "traditional": True})]
    [msg] = core.received
    assert (msg.chat_id, msg.user_id, msg.locale, msg.message_id) == (fake.channel_id, fake.user_id, "en-US", None)
    route = msg.route or {}
    # The token (a 15-minute credential) stays out of the route, which rides in the job for a day;
    # it waits in Redis for the poem's follow-up and expires with the bot's follow-up window.
    assert route["kind"] == "interaction" and interaction["token"] not in repr(route)
    token_key = keys.interaction_token(interaction["id"])
    assert redis_client.get(token_key) == interaction["token"].encode()
    assert 13 * 60 * 1000 < redis_client.pttl(token_key) <= 14 * 60 * 1000
    assert route["interaction_id"] == interaction["id"] and route["application_id"] == fake.application_id
    assert before - 1 <= route["created_at"] <= time.time()
    assert fake.channel_messages() == []  # nothing went to the channel


@pytest.mark.parametrize(
    ("name", "options", "typed"),
    [
        ("cang", {"heads": "春夏秋冬", "form": "五绝", "topic": "四季"},
         CommandOptions("acrostic", {"heads": "春夏秋冬", "form": "五绝", "topic": "四季", "traditional": False})),
        ("check", {"poem": " 白日依山尽，黄河入海流。 "}, CommandOptions("check", {"poem": " 白日依山尽，黄河入海流。 "})),
        ("fhl", {"token": "月", "mode": "古法", "versus": True}, CommandOptions("fhl", {"text": "月 古法 对战"})),
        ("jieju", {"direction": "上", "questions": 3}, CommandOptions("jieju", {"text": "上 题数=3"})),
        ("a", {"line": "举头望明月"}, CommandOptions("answer", {"text": "举头望明月"})),
        ("queue", {}, CommandOptions("queue")),
        ("help", {}, CommandOptions("help")),
    ],
)
async def test_every_slash_command_hands_the_core_its_typed_options(
    fake: FakeDiscord, name: str, options: dict, typed: CommandOptions
) -> None:
    core = RecordingCore()
    async with running(fake, core):
        interaction = await fake.slash(name, options)
        await fake.wait_for(lambda: fake.followups(interaction["token"]))
    assert core.options == [typed]
    assert core.received[0].locale == "zh-CN"


async def test_slash_command_with_nothing_to_say_removes_the_placeholder(fake: FakeDiscord) -> None:
    async with running(fake, RecordingCore(silent=True)):
        interaction = await fake.slash("cancel")
        path = rf"/webhooks/{fake.application_id}/{interaction['token']}/messages/@original"
        await fake.wait_for(lambda: fake.find("DELETE", path))
    assert fake.followups(interaction["token"]) == []


async def test_errors_are_logged_and_the_user_told_in_their_language(
    fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(fake, RecordingCore(fail=True)):
        interaction = await fake.slash("forms", locale="en-GB")
        sent = await fake.send_message("!forms")
        [followup] = await fake.wait_for(lambda: fake.followups(interaction["token"]))
        [reply] = await fake.wait_for(lambda: fake.channel_messages())
    assert followup["content"] == t("internal_error", "en-GB")
    assert reply["content"] == t("internal_error", None)
    assert reply["message_reference"]["message_id"] == int(sent["id"])
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert len(errors) == 2 and all("core exploded" in str(r.exc_info[1]) for r in errors)


# --------------------------------------------------------------------------- one channel in order
async def test_one_channels_events_are_handled_in_arrival_order_and_channels_side_by_side(
    fake: FakeDiscord,
) -> None:
    """While the first message of a channel is held, the slash command and the message typed after it
    wait their turn (discord.py alone would run them at once); another channel is answered meanwhile."""
    core = RecordingCore()
    held = asyncio.Event()
    core.gates["!poem 一"] = held
    async with running(fake, core) as client:
        await fake.send_message("!poem 一")
        await core.wait_for(lambda: core.started() == ["!poem 一"])
        slash = await fake.slash("poem", {"topic": "二"})
        await fake.send_message("!poem 三")
        await fake.send_message("!poem 四", channel_id=fake.other_channel_id)
        [elsewhere] = await fake.wait_for(lambda: fake.channel_messages(fake.other_channel_id))
        # "四" was sent last, on the same gateway connection: the client read "二" and "三" before it,
        # and answered "四" while the first channel still waits for "一".
        assert elsewhere["content"] == "ack:!poem 四"
        assert await fake.wait_for(lambda: fake.callbacks(slash["id"]))  # deferred at once all the same
        assert core.started() == ["!poem 一", "!poem 四"]
        assert client.order.busy() == 1
        held.set()
        await fake.wait_for(lambda: len(fake.channel_messages()) == 2 and fake.followups(slash["token"]))
    in_first_channel = [entry for entry in core.log if "四" not in entry[1]]
    assert in_first_channel == [("start", "!poem 一"), ("end", "!poem 一"), ("start", "/poem topic=二"),
                                ("end", "/poem topic=二"), ("start", "!poem 三"), ("end", "!poem 三")]
    assert [m["content"] for m in fake.channel_messages()] == ["ack:!poem 一", "ack:!poem 三"]
    assert client.order.busy() == 0  # idle channels hold nothing


# --------------------------------------------------------------------------- Discord going away
async def test_rest_outage_answers_wait_and_go_out_once_when_discord_is_back(fake: FakeDiscord) -> None:
    health = Health(stall_after_s=30)
    health.mark_ready()
    core = RecordingCore()
    async with running(fake, core, link=fast_link(health)):
        await eventually(lambda: health.ready)
        fake.rest_down = True
        await fake.send_message("!poem 一")
        probe = "/oauth2/applications/@me"
        await fake.wait_for(lambda: len([c for c in fake.find("GET", probe) if c.status == 0]) >= 2)
        assert health.waiting_on() == ["discord"] and not health.ready
        assert fake.channel_messages() == []
        fake.rest_down = False
        [answer] = await fake.wait_for(lambda: fake.channel_messages())
        await eventually(lambda: health.ready)
    assert answer["content"] == "ack:!poem 一"
    posts = fake.find("POST", f"/channels/{fake.channel_id}/messages")
    assert [c.status for c in posts] == [0, 200]  # dropped once, then made once
    assert posts[0].body["nonce"] == posts[1].body["nonce"]


async def test_a_post_whose_answer_was_lost_is_not_posted_twice(fake: FakeDiscord) -> None:
    core = RecordingCore()
    async with running(fake, core):
        fake.lose_answers = 1  # Discord makes the message, then the connection drops before its answer
        await fake.send_message("!poem 一")
        await fake.wait_for(lambda: len(fake.find("POST", f"/channels/{fake.channel_id}/messages")) == 2)
        await fake.send_message("!poem 二")  # handled after "一" is done: nothing of it is left in flight
        await fake.wait_for(lambda: len(fake.channel_messages()) == 2)
    first, retried, second = fake.find("POST", f"/channels/{fake.channel_id}/messages")
    assert first.body["nonce"] == retried.body["nonce"] and retried.duplicate  # Discord gave back the first
    assert not second.duplicate and second.body["nonce"] != first.body["nonce"]
    assert [m["content"] for m in fake.channel_messages()] == ["ack:!poem 一", "ack:!poem 二"]


async def test_gateway_drop_is_reconnected_and_readiness_follows(fake: FakeDiscord) -> None:
    health = Health(stall_after_s=30)
    health.mark_ready()
    core = RecordingCore()
    async with running(fake, core, link=fast_link(health)):
        await eventually(lambda: health.ready)
        await fake.drop_gateway()
        # discord.py reconnects by itself: RESUME, which this fake refuses, then IDENTIFY afresh.
        await fake.wait_for(lambda: fake.identifies == 2 and fake.connected, timeout=60)
        await eventually(lambda: health.ready)
        await fake.send_message("!poem 一")
        [answer] = await fake.wait_for(lambda: fake.channel_messages())
    assert answer["content"] == "ack:!poem 一"


async def test_slash_command_that_cannot_be_deferred_is_answered_in_the_channel(fake: FakeDiscord) -> None:
    core = RecordingCore()
    async with running(fake, core):
        fake.rest_down = True
        interaction = await fake.slash("poem", {"topic": "秋月"})
        await fake.wait_for(lambda: fake.callbacks(interaction["id"]))  # the defer, dropped
        await core.wait_for(lambda: core.started())
        fake.rest_down = False
        [posted] = await fake.wait_for(lambda: fake.channel_messages())
    assert posted["content"] == f"<@{fake.user_id}> ack:/poem topic=秋月"
    assert fake.followups(interaction["token"]) == []


async def test_slash_command_answered_too_late_for_discord_is_answered_in_the_channel(fake: FakeDiscord) -> None:
    core = RecordingCore()
    async with running(fake, core):
        interaction = await fake.slash("poem", {"topic": "秋月"}, late=True)  # past Discord's 3 s
        [posted] = await fake.wait_for(lambda: fake.channel_messages())
    [refused] = fake.callbacks(interaction["id"])
    assert refused.status == 404  # Unknown interaction: the token never works ...
    assert posted["content"] == f"<@{fake.user_id}> ack:/poem topic=秋月"  # ... so the channel, to the user
    assert posted["allowed_mentions"]["users"] == [int(fake.user_id)]
    assert fake.find("POST", r"/webhooks/.*") == []


# --------------------------------------------------------------------------- delivery of queued replies
def poem_reply(route: dict, chat_id: str) -> PoemReply:
    request = PoemRequest(platform="discord", chat_id=chat_id, user_id="1", topic="秋月", route=route)
    return PoemReply.ok(request, {"title": "秋月", "lines": ["a"], "form": "七绝", "text": "a"})


async def _deliver_after_slash(fake: FakeDiscord, redis_client: redis.Redis, created_at: float | None,
                               expire: bool = False, **overrides: object) -> tuple[dict, list]:
    core = RecordingCore()
    async with running(fake, core, BotStore(redis_client), **overrides) as client:
        interaction = await fake.slash("poem", {"topic": "秋月"}, created_at=created_at)
        await fake.wait_for(lambda: fake.followups(interaction["token"]))
        if expire:
            fake.expire(interaction["token"])
        route = core.received[0].route or {}
        await client.sender.send_reply(poem_reply(route, fake.channel_id),
                                       OutgoingMessage(chat_id=fake.channel_id, text="《秋月》\n诗句"))
    return interaction, fake.followups(interaction["token"])


async def test_fresh_reply_is_a_follow_up(fake: FakeDiscord, redis_client: redis.Redis) -> None:
    _, followups = await _deliver_after_slash(fake, redis_client, created_at=None)
    assert [f["content"] for f in followups] == ["ack:/poem topic=秋月", "《秋月》\n诗句"]
    assert fake.channel_messages() == []


async def test_reply_after_the_follow_up_window_goes_to_the_channel(fake: FakeDiscord, redis_client: redis.Redis) -> None:
    # The interaction was created two minutes ago: its token still works (the ack got through), but
    # it is past the bot's one-minute window, so the poem must not risk the follow-up. (Minutes of
    # margin on both sides: no machine is slow enough to cross either.)
    _, followups = await _deliver_after_slash(fake, redis_client, created_at=time.time() - 120, followup_window_s=60)
    assert [f["content"] for f in followups] == ["ack:/poem topic=秋月"]
    [posted] = fake.channel_messages()
    assert posted["content"] == f"<@{fake.user_id}> 《秋月》\n诗句"
    assert posted["allowed_mentions"]["users"] == [int(fake.user_id)]


async def test_refused_follow_up_falls_back_to_the_channel(fake: FakeDiscord, redis_client: redis.Redis) -> None:
    interaction, followups = await _deliver_after_slash(fake, redis_client, created_at=None, expire=True)
    assert len(fake.find("POST", rf"/webhooks/{fake.application_id}/{interaction['token']}")) == 2  # ack + refused
    assert [f["content"] for f in followups] == ["ack:/poem topic=秋月"]
    assert [m["content"] for m in fake.channel_messages()] == [f"<@{fake.user_id}> 《秋月》\n诗句"]


async def test_expired_token_sends_the_reply_to_the_channel(fake: FakeDiscord, redis_client: redis.Redis) -> None:
    core = RecordingCore()
    async with running(fake, core, BotStore(redis_client)) as client:
        interaction = await fake.slash("poem", {"topic": "秋月"})
        await fake.wait_for(lambda: fake.followups(interaction["token"]))
        redis_client.delete(keys.interaction_token(interaction["id"]))  # what its TTL does after 14 min
        await client.sender.send_reply(poem_reply(core.received[0].route or {}, fake.channel_id),
                                       OutgoingMessage(chat_id=fake.channel_id, text="诗"))
    assert len(fake.followups(interaction["token"])) == 1  # the ack only
    assert [m["content"] for m in fake.channel_messages()] == [f"<@{fake.user_id}> 诗"]


async def test_throttled_follow_up_is_retried_as_a_follow_up_never_moved_or_dropped(
    fake: FakeDiscord, redis_client: redis.Redis
) -> None:
    core = RecordingCore()
    async with running(fake, core, BotStore(redis_client)) as client:
        interaction = await fake.slash("poem", {"topic": "秋月"})
        await fake.wait_for(lambda: fake.followups(interaction["token"]))
        reply = poem_reply(core.received[0].route or {}, fake.channel_id)
        out = OutgoingMessage(chat_id=fake.channel_id, text="诗")
        fake.refuse_webhooks = 6  # more 429s in a row than discord.py retries (5)
        with pytest.raises(TransientDeliveryError) as refused:
            await client.sender.send_reply(reply, out)
        # Transient for run_delivery: the reply stays pending for a later try.
        assert refused.value.reason == "flood" and isinstance(refused.value.__cause__, discord.HTTPException)
        assert fake.channel_messages() == []  # not redirected to the channel
        await client.sender.send_reply(reply, out)  # the retry
    assert [f["content"] for f in fake.followups(interaction["token"])] == ["ack:/poem topic=秋月", "诗"]
    assert fake.refusals == 6 and fake.channel_messages() == []


async def test_bursts_under_discord_rate_limits_arrive_once_each(fake: FakeDiscord, redis_client: redis.Redis) -> None:
    fake.rate_limits = {"channel": (5, 1.0), "webhook": (5, 1.0)}
    core = RecordingCore()
    async with running(fake, core, BotStore(redis_client)) as client:
        interaction = await fake.slash("poem", {"topic": "秋月"})
        await fake.wait_for(lambda: fake.followups(interaction["token"]))
        route = core.received[0].route or {}
        message_route = {"kind": "message", "channel_id": fake.channel_id, "user_id": fake.user_id}
        sends = [client.sender.send_reply(poem_reply(route, fake.channel_id),
                                          OutgoingMessage(chat_id=fake.channel_id, text=f"follow-up {i}"))
                 for i in range(12)]
        sends += [client.sender.send_reply(poem_reply(message_route, fake.channel_id),
                                           OutgoingMessage(chat_id=fake.channel_id, text=f"post {i}"))
                  for i in range(12)]
        started = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*sends), 30)
        elapsed = time.monotonic() - started
    followups = [f["content"] for f in fake.followups(interaction["token"])]
    posts = [m["content"] for m in fake.channel_messages()]
    assert sorted(followups) == sorted(["ack:/poem topic=秋月"] + [f"follow-up {i}" for i in range(12)])
    assert sorted(posts) == sorted(f"post {i}" for i in range(12))
    # discord.py read the X-RateLimit headers and waited: at most a stray 429 per bucket.
    assert fake.refusals <= 2, fake.refusals
    assert elapsed >= 2.0  # 12 posts per bucket at 5 a second: the limits did bind


async def test_prefix_reply_is_delivered_as_a_reply_to_the_users_message(fake: FakeDiscord) -> None:
    core = RecordingCore()
    async with running(fake, core) as client:
        sent = await fake.send_message("!poem 秋月")
        await fake.wait_for(lambda: fake.channel_messages())
        route = core.received[0].route or {}
        await client.sender.send_reply(poem_reply(route, fake.channel_id),
                                       OutgoingMessage(chat_id=fake.channel_id, text="诗"))
    _ack, poem = fake.channel_messages()
    assert poem["content"] == "诗" and poem["message_reference"]["message_id"] == int(sent["id"])


async def test_reply_to_a_channel_the_bot_cannot_see_is_a_permanent_failure(fake: FakeDiscord) -> None:
    async with running(fake, RecordingCore()) as client:
        route = {"kind": "message", "channel_id": "42", "message_id": "43", "user_id": "1"}
        with pytest.raises(PermanentDeliveryError, match="404"):
            await client.sender.send_reply(poem_reply(route, "42"), OutgoingMessage(chat_id="42", text="诗"))
    assert [c.status for c in fake.find("POST", "/channels/42/messages")] == [404]


# --------------------------------------------------------------------------- pure helpers
# Typed slash options against the text a user would type: the same command, the same refusals.
SAME_AS_TYPED = [
    (CommandOptions("poem", {"topic": " 秋月 ", "form": "七律", "rhyme": " 韵=一东 ", "traditional": True}),
     "/poem 秋月 七律 韵=一东 繁"),
    (CommandOptions("poem", {"topic": "秋月"}), "/poem 秋月"),
    (CommandOptions("acrostic", {"heads": "春 夏 秋 冬", "topic": "四季"}), "/cang 春夏秋冬 四季"),
    (CommandOptions("acrostic", {"heads": "春夏秋冬", "form": "五绝", "traditional": True}), "/cang 春夏秋冬 五绝 繁"),
    (CommandOptions("continue", {"lines": "白日依山尽", "form": "五绝"}), "/xu 白日依山尽 五绝"),
    (CommandOptions("couplet", {"line": "春风又绿江南岸"}), "/dui 春风又绿江南岸"),
    (CommandOptions("check", {"poem": " 白日依山尽，黄河入海流。 "}), "/check 白日依山尽，黄河入海流。"),
    (CommandOptions("rhyme", {"char": "行"}), "/rhyme 行"),
    (CommandOptions("yun", {"group": "一先"}), "/yun 一先"),
    (CommandOptions("fhl", {"text": "月 古法"}), "/fhl 月 古法"),
    (CommandOptions("queue"), "/queue"),
]
REFUSED_AS_TYPED = [
    (CommandOptions("poem", {"topic": "autumn moon"}), "/poem autumn moon"),  # err_topic_latin
    (CommandOptions("poem", {"topic": "秋" * 13}), "/poem " + "秋" * 13),  # err_topic_too_long
    (CommandOptions("poem", {"topic": "秋月 五绝", "form": "七绝"}), "/poem 秋月 五绝 七绝"),  # err_form_conflict
    (CommandOptions("poem", {"topic": "秋月", "form": "七律", "rhyme": "上声一董"}), "/poem 秋月 七律 韵=上声一董"),  # 仄韵 only for 绝句
    (CommandOptions("ci", {"form": "浣沙溪", "topic": "秋思"}), "/ci 浣沙溪 秋思"),  # nearest 词牌
    (CommandOptions("poem", {"topic": "秋月", "rhyme": "火星"}), "/poem 秋月 韵=火星"),  # err_rhyme_unknown
    (CommandOptions("acrostic", {"heads": "春夏秋", "form": "七绝"}), "/cang 春夏秋 七绝"),  # err_heads_count
    (CommandOptions("acrostic", {"heads": "ab"}), "/cang ab"),  # err_heads_not_han
    (CommandOptions("continue", {"lines": "白日依山尽", "form": "七绝"}), "/xu 白日依山尽 七绝"),  # err_prefix_line
    (CommandOptions("couplet", {"line": "白日依山尽，黄河入海流"}), "/dui 白日依山尽，黄河入海流"),
    (CommandOptions("check", {"poem": " "}), "/check"),  # err_check_missing
    (CommandOptions("rhyme", {"char": "行走"}), "/rhyme 行走"),  # err_rhyme_one_char
]


@pytest.mark.parametrize(("typed", "text"), SAME_AS_TYPED, ids=[t for _o, t in SAME_AS_TYPED])
def test_typed_options_build_the_command_the_text_would(typed: CommandOptions, text: str) -> None:
    assert build_command(typed) == parse_command(text)


@pytest.mark.parametrize(("typed", "text"), REFUSED_AS_TYPED, ids=[t for _o, t in REFUSED_AS_TYPED])
def test_typed_options_are_refused_with_the_words_the_text_gets(typed: CommandOptions, text: str) -> None:
    with pytest.raises(CommandError) as as_text:
        parse_command(text)
    with pytest.raises(CommandError) as as_typed:
        build_command(typed)
    for locale in ("zh-CN", "en-US"):
        assert as_typed.value.message(locale) == as_text.value.message(locale)


def test_backoff_doubles_to_its_cap_with_jitter_in_the_upper_half() -> None:
    low = Backoff(first_s=1.0, cap_s=8.0, rng=lambda: 0.0)
    high = Backoff(first_s=1.0, cap_s=8.0, rng=lambda: 1.0)
    assert [low.next() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [high.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    high.reset()
    assert high.next() == 1.0


async def test_a_turn_given_up_early_still_keeps_its_channel_in_order() -> None:
    """A handler that dies before its turn (a slash command whose options fail to convert) must not
    let the one after it run beside the one before it; another channel is not held up meanwhile."""
    order = ChannelOrder()
    first, dropped, third = order.reserve("c"), order.reserve("c"), order.reserve("c")
    log: list[str] = []
    first_started, release_first = asyncio.Event(), asyncio.Event()

    async def run(turn: Turn, name: str) -> None:
        async with turn:
            log.append(f"{name} start")
            if name == "first":
                first_started.set()
                await release_first.wait()
            log.append(f"{name} end")

    tasks = [asyncio.create_task(run(first, "first")), asyncio.create_task(run(third, "third"))]
    dropped.release()  # gives up before its turn came
    await first_started.wait()
    await run(order.reserve("elsewhere"), "other")  # another channel goes at once
    assert log == ["first start", "other start", "other end"]  # "third" still waits for "first"
    release_first.set()
    await asyncio.gather(*tasks)
    assert log[3:] == ["first end", "third start", "third end"]
    assert order.busy() == 0


def test_split_text_keeps_every_character_within_discords_limit() -> None:
    text = "\n".join(f"第{i}行" + "月" * 50 for i in range(80))
    chunks = split_text(text)
    assert len(chunks) > 1 and all(len(c) <= MAX_MESSAGE_CHARS for c in chunks)
    assert "\n".join(chunks) == text
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_every_discord_setting_comes_from_discord_variables_and_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / "poetcore.env"
    env.write_text("DISCORD_API_BASE=http://proxy.local/api/v10\nDISCORD_MESSAGE_CONTENT=false\nTELEGRAM_TOKEN=1:x\n")
    monkeypatch.setenv("DISCORD_TOKEN", "tok")
    monkeypatch.setenv("DISCORD_PREFIX", "?")
    settings = load_bot_config(env).discord
    assert settings.token is not None and settings.token.get_secret_value() == "tok"
    assert (settings.prefix, settings.api_base, settings.message_content) == ("?", "http://proxy.local/api/v10", False)
    assert settings.gateway_url is None  # unset: discord.py keeps talking to the real gateway


def test_bad_settings_say_what_to_fix() -> None:
    with pytest.raises(ValueError, match="DISCORD_PREFIX must be 1-5 non-space characters"):
        DiscordSettings(prefix="po em")
    with pytest.raises(ValueError, match="less than or equal to 900"):
        DiscordSettings(followup_window_s=3600)
