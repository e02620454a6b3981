"""Bot-side state in Redis: placeholder message ids and each user's recent requests.

Kept in Redis, not in memory, so a restarted bot (or another replica) still edits the "正在作诗…"
placeholder into the poem, and ``/queue`` / ``/cancel`` still find what a user asked before the
restart. Calls are sync redis-py run in a thread: the same connection the ``PoemService`` uses.
The keys are defined with every other key in `worker.contract.keys`.
"""

from __future__ import annotations

import asyncio

import redis

from worker.contract import keys

__all__ = ["BotStore"]

RECENT_PER_USER = 5


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class BotStore:
    """Small keyed state with TTLs; every method is one round trip."""

    def __init__(self, connection: redis.Redis, ttl_s: int = 86400) -> None:
        self.connection = connection
        self.ttl_s = ttl_s

    async def remember_placeholder(self, platform: str, request_id: str, message_id: str) -> None:
        await asyncio.to_thread(self.connection.set, keys.placeholder(platform, request_id), message_id, ex=self.ttl_s)

    async def placeholder_id(self, platform: str, request_id: str) -> str | None:
        value = await asyncio.to_thread(self.connection.get, keys.placeholder(platform, request_id))
        return _text(value) if value else None

    async def forget_placeholder(self, platform: str, request_id: str) -> None:
        await asyncio.to_thread(self.connection.delete, keys.placeholder(platform, request_id))

    def _add_request(self, platform: str, user_id: str, request_id: str) -> None:
        key = keys.user_requests(platform, user_id)
        with self.connection.pipeline() as pipe:
            pipe.lpush(key, request_id)
            pipe.ltrim(key, 0, RECENT_PER_USER - 1)
            pipe.expire(key, self.ttl_s)
            pipe.execute()

    async def add_request(self, platform: str, user_id: str, request_id: str) -> None:
        await asyncio.to_thread(self._add_request, platform, user_id, request_id)

    async def recent_requests(self, platform: str, user_id: str) -> list[str]:
        """The user's latest request ids, newest first."""
        values = await asyncio.to_thread(self.connection.lrange, keys.user_requests(platform, user_id), 0, -1)
        return [_text(v) for v in values]
