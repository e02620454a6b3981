"""Bot fixtures: a real queue client on the test Redis, a chat core, and the fake Telegram server.

``redis_url`` (a clean database on a real redis-server) comes from the root conftest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from support.fake_telegram import FakeTelegram
from support.settings import make_bot_settings, make_queue_settings

from bots.core.chat import ChatCore
from bots.core.settings import BotSettings
from worker.contract.service import PoemService
from worker.contract.settings import QueueSettings


@pytest.fixture
def queue_settings() -> QueueSettings:
    return make_queue_settings()


@pytest.fixture
def service(redis_url: str, queue_settings: QueueSettings) -> Iterator[PoemService]:
    svc = PoemService.from_url(redis_url, queue_settings)
    yield svc
    svc.connection.close()


@pytest.fixture
def bot_settings() -> BotSettings:
    return make_bot_settings()


@pytest.fixture
def core(service: PoemService, bot_settings: BotSettings) -> ChatCore:
    return ChatCore(service, bot_settings, bot_username="poetbot")


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake
