"""The chat clock every front-end runs: the games' warnings, ends of rounds and held-back verdicts,
and the groups' combined "busy, try again" notices.

Any number of bot processes may run it for one platform: each event is taken by exactly one of
them (the chat's lock plus the state in Redis, or one Lua script for the notices), so a round ends
once, its scoreboard is sent once, and a refused requester is named once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis

from bots.core.admission import BusyNotices
from bots.core.delivery import TransientDeliveryError
from bots.core.games.service import GameService
from bots.core.metrics import DELIVERY_RETRIES
from bots.core.models import OutgoingMessage

__all__ = ["run_chat_clock"]

log = logging.getLogger(__name__)

Send = Callable[[OutgoingMessage], Awaitable[object]]


async def run_chat_clock(games: GameService, notices: BusyNotices | None, platform: str, send: Send,
                         interval_s: float = 1.0) -> None:
    """Tick until cancelled; a send that fails is logged (the game state has moved on already)."""
    backoff = interval_s
    while True:
        try:
            due = await games.tick(platform)
            if notices is not None:
                due += await notices.due(platform)
            backoff = interval_s
        except (redis.RedisError, OSError) as exc:
            log.warning("clock: cannot reach Redis (%s); retrying in %.1f s", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        for out in due:
            try:
                await send(out)
            except asyncio.CancelledError:
                raise
            except TransientDeliveryError as exc:  # the platform is away or flooded: expected, counted
                DELIVERY_RETRIES.labels(platform=platform, reason=exc.reason).inc()
                log.warning("clock: timed message to %s:%s not sent (%s)", platform, out.chat_id, exc)
            except Exception:
                log.exception("clock: could not send a timed message to %s:%s", platform, out.chat_id)
        await asyncio.sleep(interval_s)
