"""Redis clients with timeouts chosen on purpose.

redis-py 8 defaults ``socket_timeout`` to 5 s, which aborts any blocking read (BLMOVE,
XREADGROUP BLOCK) that waits longer. Every client here sets it explicitly: short for plain
commands, longer than the block time for blocking ones.
"""

from __future__ import annotations

import redis
import redis.asyncio

COMMAND_TIMEOUT_S = 10.0


def connect(url: str, *, block_s: float | None = None) -> redis.Redis:
    """Bytes-mode client (what RQ expects). ``block_s``: longest blocking read planned."""
    timeout = COMMAND_TIMEOUT_S if block_s is None else block_s + COMMAND_TIMEOUT_S
    return redis.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=COMMAND_TIMEOUT_S, health_check_interval=30
    )


def connect_async(url: str, *, block_s: float | None = None) -> redis.asyncio.Redis:
    timeout = COMMAND_TIMEOUT_S if block_s is None else block_s + COMMAND_TIMEOUT_S
    return redis.asyncio.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=COMMAND_TIMEOUT_S, health_check_interval=30
    )

__all__ = [
    "COMMAND_TIMEOUT_S",
    "connect",
    "connect_async",
]
