"""Bot-side state in Redis: acknowledgement message ids and each user's recent requests.

Kept in Redis, not in memory, so a restarted bot (or another replica) still edits the "正在作诗…"
message into the poem, and ``/queue`` / ``/cancel`` still find what a user asked before the restart.
Calls are sync redis-py run in a thread: the same connection the ``PoemService`` uses.
"""

from __future__ import annotations

import asyncio

import redis

__all__ = ["BotStore"]

PREFIX = "poetcore:bot"
RECENT_PER_USER = 5


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class BotStore:
    """Small keyed state with TTLs; every method is one round trip."""

    def __init__(self, connection: redis.Redis, ttl_s: int = 86400) -> None:
        self.connection = connection
        self.ttl_s = ttl_s

    @staticmethod
    def ack_key(platform: str, request_id: str) -> str:
        return f"{PREFIX}:ack:{platform}:{request_id}"

    @staticmethod
    def user_key(platform: str, user_id: str) -> str:
        return f"{PREFIX}:user:{platform}:{user_id}"

    async def remember_ack(self, platform: str, request_id: str, message_id: str) -> None:
        await asyncio.to_thread(self.connection.set, self.ack_key(platform, request_id), message_id, ex=self.ttl_s)

    async def ack_message_id(self, platform: str, request_id: str) -> str | None:
        value = await asyncio.to_thread(self.connection.get, self.ack_key(platform, request_id))
        return _text(value) if value else None

    async def forget_ack(self, platform: str, request_id: str) -> None:
        await asyncio.to_thread(self.connection.delete, self.ack_key(platform, request_id))

    def _add_request(self, platform: str, user_id: str, request_id: str) -> None:
        key = self.user_key(platform, user_id)
        with self.connection.pipeline() as pipe:
            pipe.lpush(key, request_id)
            pipe.ltrim(key, 0, RECENT_PER_USER - 1)
            pipe.expire(key, self.ttl_s)
            pipe.execute()

    async def add_request(self, platform: str, user_id: str, request_id: str) -> None:
        await asyncio.to_thread(self._add_request, platform, user_id, request_id)

    async def recent_requests(self, platform: str, user_id: str) -> list[str]:
        """The user's latest request ids, newest first."""
        values = await asyncio.to_thread(self.connection.lrange, self.user_key(platform, user_id), 0, -1)
        return [_text(v) for v in values]
