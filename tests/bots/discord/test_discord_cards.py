"""Poem cards on the fake Discord: a delivered poem, ``!card`` in reply to it, and the real discord.py
client's post with the card as an attachment (multipart: ``payload_json`` and ``files[0]``); the
fake's limits on such posts, checked with the real client."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from PIL import Image
from support.fake_discord import ATTACHMENT_SIZE_LIMIT, FakeDiscord, settle_discord_tasks
from support.settings import make_discord_settings, make_queue_settings

from bots.core.chat import ChatCore
from bots.core.messages import t
from bots.discord import run_discord
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.replies import ReplyConsumer, ReplyPublisher
from worker.contract.service import PoemService

pytestmark = pytest.mark.timeout(60)

WUJUE = {"title": "登鹳雀楼", "lines": ["白日依山尽", "黄河入海流", "欲穷千里目", "更上一层楼"], "form": "五绝",
         "rhyme_group": "尤", "text": ""}


@contextlib.asynccontextmanager
async def discord_bot(fake: FakeDiscord, core: ChatCore, redis_url: str) -> AsyncIterator[None]:
    """``run_discord`` (the production entry point) against the fake, until the block ends."""
    settings = make_discord_settings(token=fake.token, api_base=fake.api_base, gateway_url=fake.gateway_url)
    replies = ReplyConsumer.from_settings(make_queue_settings(), "discord", redis_url, consumer="discord-cards")
    task = asyncio.create_task(run_discord(core, settings, replies, None, retry_first_s=0.05, retry_max_s=0.5,
                                           guild_ready_timeout=0.05))
    try:
        await fake.wait_for(lambda: fake.connected or task.done())
        if task.done():
            task.result()
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await replies.aclose()
        await settle_discord_tasks()


async def delivered_poem(fake: FakeDiscord, service: PoemService, poem: dict[str, Any]) -> dict[str, Any]:
    """``!poem``, then a worker's reply delivered to the channel: the poem's message as Discord made it."""
    asked = await fake.send_message("!poem 登楼 五绝")
    await fake.wait_for(lambda: service.queue_length() == 1)
    from rq.job import Job
    from rq.serializers import JSONSerializer

    job = Job.fetch(service.queue.job_ids[0], connection=service.connection, serializer=JSONSerializer)
    request = PoemRequest.model_validate(job.args[0])
    ReplyPublisher.from_settings(service.connection, service.settings).publish(PoemReply.ok(request, poem))
    return await fake.wait_for(lambda: next(
        (m for m in fake.posted.values() if m["content"].startswith("《") and
         m.get("message_reference", {}).get("message_id") == int(asked["id"])), None))


async def test_card_in_reply_to_a_poem_posts_it_as_an_attachment(fake: FakeDiscord, core: ChatCore,
                                                                 service: PoemService, redis_url: str) -> None:
    async with discord_bot(fake, core, redis_url):
        poem = await delivered_poem(fake, service, WUJUE)
        asked = await fake.send_message("!card", reply_to=poem)
        call = await fake.wait_for(lambda: next((c for c in fake.find("POST", rf"/channels/{fake.channel_id}/messages")
                                                 if c.files), None))
    assert call.status == 200
    [(name, data)] = call.files
    assert name == "poem.png" and call.body["attachments"] == [{"id": 0, "filename": "poem.png"}]
    assert call.body["content"] == poem["content"]  # the poem's text is the card's caption
    assert call.body["message_reference"]["message_id"] == int(asked["id"])
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG" and image.width > image.height > 400
    made = fake.posted[call.made or ""]
    assert made["attachments"][0]["filename"] == "poem.png" and made["attachments"][0]["size"] == len(data)


async def test_card_replying_to_no_poem_says_so(fake: FakeDiscord, core: ChatCore, redis_url: str) -> None:
    async with discord_bot(fake, core, redis_url):
        await fake.send_message("!forms")
        forms = await fake.wait_for(lambda: next(iter(fake.posted.values()), None))
        await fake.send_message("!card", reply_to=forms)
        await fake.wait_for(lambda: len(fake.posted) == 2)
    assert list(fake.posted.values())[1]["content"] == t("card_not_poem")
    assert not any(c.files for c in fake.calls)


# --- the fake's rules for uploads, with the real client ----------------------------------------------


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    from bots.discord.compat import configure_endpoints

    configure_endpoints(fake.api_base, fake.gateway_url)
    bot = discord.Client(intents=discord.Intents.none())
    await bot.login(fake.token)
    try:
        yield bot
    finally:
        await bot.close()


def channel(fake: FakeDiscord, bot: discord.Client) -> discord.PartialMessageable:
    return bot.get_partial_messageable(int(fake.channel_id))


async def test_an_upload_too_big_is_refused_413(fake: FakeDiscord, client: discord.Client) -> None:
    big = discord.File(io.BytesIO(b"\0" * (ATTACHMENT_SIZE_LIMIT + 1)), filename="big.png")
    with pytest.raises(discord.HTTPException) as info:
        await channel(fake, client).send("诗", file=big)
    assert info.value.status == 413 and info.value.code == 40005


async def test_content_over_2000_characters_is_refused(fake: FakeDiscord, client: discord.Client) -> None:
    card = discord.File(io.BytesIO(b"\x89PNG"), filename="poem.png")
    with pytest.raises(discord.HTTPException) as info:
        await channel(fake, client).send("月" * 2001, file=card)
    assert info.value.status == 400 and info.value.code == 50035


async def test_an_accepted_upload_is_listed_on_the_message(fake: FakeDiscord, client: discord.Client) -> None:
    sent = await channel(fake, client).send("诗", file=discord.File(io.BytesIO(b"\x89PNG-ish"), filename="poem.png"))
    assert [(a.filename, a.size) for a in sent.attachments] == [("poem.png", 8)]
    assert fake.posted[str(sent.id)]["attachments"][0]["content_type"] == "image/png"
