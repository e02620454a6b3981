"""Discord fixtures: the fake server, and discord.py's process-wide endpoints put back after each test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import discord
import pytest
from discord.gateway import DiscordWebSocket
from support.fake_discord import FakeDiscord


@pytest.fixture(autouse=True)
def _restore_endpoints() -> Iterator[None]:
    """build_client redirects discord.py process-wide; put the real Discord URLs back afterwards."""
    base, gateway = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server
