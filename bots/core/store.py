"""Bot-side state in Redis: placeholder and game-board message ids, each user's recent requests,
Discord tokens.

Kept in Redis, not in memory, so a restarted bot (or another replica) still edits the "正在作诗…"
placeholder into the poem, and ``/queue`` / ``/cancel`` still find what a user asked before the
restart. Calls are sync redis-py run in a thread: the same connection the ``PoemService`` uses.
The keys are `bots.core.keys`.
"""

from __future__ import annotations

import asyncio

import redis

from bots.core import keys

__all__ = ["BotStore"]

RECENT_PER_USER = 5
PENDING = "pending"
"""Stored while the placeholder is on its way, so a fast poem waits for it instead of overtaking it."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class BotStore:
    """Small keyed state with TTLs; every method is one round trip."""

    def __init__(self, connection: redis.Redis, ttl_s: int = 86400) -> None:
        self.connection = connection
        self.ttl_s = ttl_s

    async def remember_placeholder(self, platform: str, request_id: str, message_id: str) -> None:
        await asyncio.to_thread(self.connection.set, keys.placeholder(platform, request_id), message_id, ex=self.ttl_s)

    async def mark_placeholder_pending(self, platform: str, request_id: str, ttl_s: float) -> None:
        """Before the request is submitted: its placeholder will follow (NX: never over a real id)."""
        await asyncio.to_thread(self.connection.set, keys.placeholder(platform, request_id), PENDING, nx=True,
                                px=int(ttl_s * 1000))

    async def placeholder_id(self, platform: str, request_id: str, wait_s: float = 0.0) -> str | None:
        """The placeholder's message id; while it is still being sent, wait up to ``wait_s`` for it."""
        deadline = asyncio.get_running_loop().time() + wait_s
        while True:
            raw = await asyncio.to_thread(self.connection.get, keys.placeholder(platform, request_id))
            value = _text(raw) if raw else None
            if value != PENDING:
                return value
            if asyncio.get_running_loop().time() >= deadline:
                return None
            await asyncio.sleep(0.05)

    async def forget_placeholder(self, platform: str, request_id: str) -> None:
        await asyncio.to_thread(self.connection.delete, keys.placeholder(platform, request_id))

    async def remember_board(self, platform: str, board_key: str, message_id: str) -> None:
        """A game board the front-end sent: later moves edit this message (`GameStore.board_message`)."""
        await asyncio.to_thread(self.connection.set, keys.game_board(platform, board_key), message_id, ex=self.ttl_s)

    def _count_group_placeholders(self, platform: str, chat_id: str, window_s: int) -> tuple[int, int]:
        key = keys.group_placeholders(platform, chat_id)
        with self.connection.pipeline() as pipe:
            pipe.set(key, 0, ex=window_s, nx=True)  # the window starts with its first one (Redis 6.2: no EXPIRE NX)
            pipe.incr(key)
            pipe.ttl(key)
            _, count, ttl = pipe.execute()
        return int(count), max(int(ttl), 1)

    def _group_usage(self, platform: str, chat_id: str, game_window_key: str) -> tuple[int, int, int]:
        with self.connection.pipeline() as pipe:
            pipe.get(keys.group_placeholders(platform, chat_id))
            pipe.ttl(keys.group_placeholders(platform, chat_id))
            pipe.get(game_window_key)
            placeholders, ttl, games = pipe.execute()
        return int(placeholders or 0), max(int(ttl), 0), int(games or 0)

    async def group_usage(self, platform: str, chat_id: str) -> tuple[int, int, int]:
        """(placeholder requests counted in the group's window, seconds it has left, game messages sent
        in the games' window): read only, so asking costs the group nothing."""
        return await asyncio.to_thread(self._group_usage, platform, chat_id, keys.game_sent(platform, chat_id))

    async def count_group_placeholders(self, platform: str, chat_id: str, window_s: int) -> tuple[int, int]:
        """(placeholders in this group's window including this one, seconds the window has left)."""
        return await asyncio.to_thread(self._count_group_placeholders, platform, chat_id, window_s)

    async def remember_interaction_token(self, interaction_id: str, token: str, ttl_s: float) -> None:
        """Keep a Discord interaction token only as long as it may be used (``ttl_s``, at least 1 s)."""
        await asyncio.to_thread(self.connection.set, keys.interaction_token(interaction_id), token,
                                px=max(1000, int(ttl_s * 1000)))

    async def interaction_token(self, interaction_id: str) -> str | None:
        """The token, or None once it expired (the reply then goes to the channel)."""
        raw = await asyncio.to_thread(self.connection.get, keys.interaction_token(interaction_id))
        return _text(raw) if raw else None

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
