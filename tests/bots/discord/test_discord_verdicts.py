"""Verdicts that keep up with a busy Discord channel, end to end: the fake Discord (enforcing its
per-channel buckets: posts 5 per 5 s, edits 5 per 5 s, reactions one per 0.25 s, with its headers
and 429s), the real discord.py client, the chat core, Redis and the built-in line index.

A burst of answers (``!a``: plain chat that is no line gets no word) gets one reaction each, in the answers' order, and every verdict's details
once (replies, then the verdict board edited in place); 429s on the reactions are waited out with
nothing lost. The tests wait for what the channel shows, never for a time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from support.fake_discord import FakeDiscord, settle_discord_tasks
from support.games import burst_answers
from support.settings import make_bot_settings, make_discord_settings

from bots.core.chat import ChatCore
from bots.discord import run_discord
from bots.discord.sender import MARKS
from worker.contract.service import PoemService

pytestmark = pytest.mark.timeout(120)

PLAYERS = ("7101", "7102", "7103")


@contextlib.asynccontextmanager
async def running(fake: FakeDiscord, core: ChatCore) -> AsyncIterator[None]:
    settings = make_discord_settings(token=fake.token, api_base=fake.api_base, gateway_url=fake.gateway_url)
    task = asyncio.create_task(run_discord(core, settings, None))
    try:
        await fake.wait_for(lambda: fake.connected or task.done())
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        await settle_discord_tasks()


def burst(core: ChatCore, count: int) -> list[str]:
    """``count`` answers: real lines with 月, every fifth one made up, every sixth a repeat."""
    return burst_answers((r.text for r in core.games.index.with_char("月", lengths=(5, 7), limit=count * 2)), count)


def shown(fake: FakeDiscord) -> list[str]:
    """Every line the channel shows now: each bot post as last edited."""
    current: dict[str, str] = {}
    for call in fake.calls:
        if call.method == "POST" and call.path == f"/channels/{fake.channel_id}/messages" and call.status == 200 \
                and not call.duplicate and call.made:
            current[call.made] = call.body.get("content", "")
        elif call.method == "PATCH" and call.path.startswith(f"/channels/{fake.channel_id}/messages/") \
                and call.status == 200:
            current[call.path.rsplit("/", 1)[1]] = (call.body or {}).get("content", "")
    return [line for text in current.values() for line in text.split("\n")]


def all_shown(fake: FakeDiscord, answers: list[str]) -> bool:
    lines = shown(fake)
    return all(sum(a in line for line in lines) == answers.count(a) for a in answers)


async def play(fake: FakeDiscord, answers: list[str]) -> list[str]:
    """The players post every answer, in turn."""
    return [(await fake.send_message(f"!a {answer}", user_id=PLAYERS[i % len(PLAYERS)]))["id"]
            for i, answer in enumerate(answers)]


async def test_a_burst_gets_one_mark_each_in_order_and_every_verdict_shown(
    fake: FakeDiscord, service: PoemService
) -> None:
    fake.rate_limits = {"channel": (5, 5.0), "edit": (5, 5.0), "reaction": (1, 0.25)}  # Discord's, per channel
    core = ChatCore(service, make_bot_settings(game_timeout_s=600, game_warning_s=15, game_flush_s=1.0))
    async with running(fake, core):
        await fake.send_message("!fhl 月")
        await fake.wait_for(lambda: fake.channel_messages())
        answers = burst(core, 16)
        ids = await play(fake, answers)
        await fake.wait_for(lambda: len(fake.reactions) >= len(ids), 60)
        await fake.wait_for(lambda: all_shown(fake, answers), 60)
    assert [r.message_id for r in fake.reactions] == ids  # one mark per answer, in the answers' order
    for reaction, answer, i in zip(fake.reactions, answers, range(len(answers)), strict=True):
        want = {MARKS["wrong"], MARKS["near"]} if answer.endswith("不是诗句") else \
            {MARKS["repeat"]} if answer in answers[:i] else {MARKS["right"]}
        assert reaction.emoji in want, (answer, reaction.emoji)
    boards = [m for m in fake.channel_messages() if not m.get("message_reference")]  # the replies answer a message
    assert boards and all(sum(a in line for a in answers for line in m["content"].split("\n")) > 1 for m in boards)
    # past the quiet start (3 messages in Discord's 5 s less 2 kept for direct answers), one board


async def test_rate_limited_marks_are_waited_out_and_nothing_is_lost(fake: FakeDiscord, service: PoemService) -> None:
    core = ChatCore(service, make_bot_settings(game_timeout_s=600, game_warning_s=15))
    async with running(fake, core):
        await fake.send_message("!fhl 月")
        await fake.wait_for(lambda: fake.channel_messages())
        fake.refuse_reactions = 2  # 429 "You are being rate limited.", twice
        answers = burst(core, 5)
        ids = await play(fake, answers)
        await fake.wait_for(lambda: len(fake.reactions) >= len(ids), 60)
        await fake.wait_for(lambda: all_shown(fake, answers), 60)
    assert fake.refusals == 2 and fake.refuse_reactions == 0
    assert [r.message_id for r in fake.reactions] == ids  # each refused one made again, in order
