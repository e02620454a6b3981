"""The game clock every front-end runs: warnings, ends of rounds, and held-back verdicts.

Any number of bot processes may run it for one platform: each event is taken by exactly one of
them (the chat's lock plus the state in Redis), so a round ends once and its scoreboard is sent once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis

from bots.core.games.service import GameService
from bots.core.models import OutgoingMessage

__all__ = ["run_game_clock"]

log = logging.getLogger(__name__)

Send = Callable[[OutgoingMessage], Awaitable[object]]


async def run_game_clock(games: GameService, platform: str, send: Send, interval_s: float = 1.0) -> None:
    """Tick until cancelled; a send that fails is logged (the game state has moved on already)."""
    backoff = interval_s
    while True:
        try:
            due = await games.tick(platform)
            backoff = interval_s
        except (redis.RedisError, OSError) as exc:
            log.warning("games: clock cannot reach Redis (%s); retrying in %.1f s", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        for out in due:
            try:
                await send(out)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("games: could not send a game message to %s:%s", platform, out.chat_id)
        await asyncio.sleep(interval_s)
