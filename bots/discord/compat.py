"""Everything the Discord front-end uses beyond discord.py's public API, in one place (discord.py 2.7).

Each item says what it relies on, so an upgrade of discord.py knows what to re-check here and nowhere
else:

- `configure_endpoints`: the REST base (``discord.http.Route.BASE``) and the gateway URL
  (``DiscordWebSocket.DEFAULT_GATEWAY``) are class attributes, the only way to point the library at
  a proxy or a test server;
- `cancel_ready_task`: ``ConnectionState._ready_task``, the "wait for guilds, then dispatch
  on_ready" task that ``Client.close`` leaves running;
- `first_connect_failed`: ``Client.connect`` reads ``self.ws.sequence`` after a failed connection,
  which raises ``AttributeError`` while ``Client.ws`` is still None (the very first connection);
- `ReconnectLogFilter`: ``Client.connect`` logs each gateway reconnect attempt with
  ``_log.exception("Attempting a reconnect in %.2fs")``, an ERROR with a traceback for what is an
  expected, handled condition;
- `cap_gateway_backoff`: ``Client.connect`` waits between gateway reconnects with the
  ``ExponentialBackoff`` it looks up in ``discord.client``, whose waits grow to 1024 s: after a long
  outage the bot would stay away up to 17 minutes after Discord came back.
"""

from __future__ import annotations

import logging

import discord
import discord.client
import yarl
from discord.backoff import ExponentialBackoff
from discord.gateway import DiscordWebSocket

__all__ = ["GATEWAY_BACKOFF_MAX_EXP", "CappedGatewayBackoff", "ReconnectLogFilter", "cancel_ready_task",
           "cap_gateway_backoff", "configure_endpoints", "first_connect_failed", "quiet_reconnect_logs"]

_CLIENT_LOGGER = "discord.client"
_RECONNECT_MESSAGE = "Attempting a reconnect in %.2fs"


def configure_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at ``api_base`` / ``gateway_url`` when they are set (process-wide).

    Unset values leave the library's Discord defaults alone.
    """
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def cancel_ready_task(client: discord.Client) -> None:
    """Cancel discord.py's pending on_ready task: a client closed during start-up would otherwise
    fire on_ready on a dead loop."""
    ready = getattr(client._connection, "_ready_task", None)
    if ready is not None:
        ready.cancel()


def first_connect_failed(client: discord.Client, exc: BaseException) -> bool:
    """``Client.connect`` died because its very first gateway connection failed (the gateway was
    unreachable right after login): a transient failure, not a bug of ours."""
    return isinstance(exc, AttributeError) and getattr(client, "ws", None) is None


class ReconnectLogFilter(logging.Filter):
    """Turns discord.py's reconnect-attempt ERROR (with traceback) into one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == _CLIENT_LOGGER and record.msg == _RECONNECT_MESSAGE and record.levelno >= logging.ERROR:
            exc = record.exc_info[1] if record.exc_info else None
            reason = f"{type(exc).__name__}: {exc}" if exc is not None else "connection lost"
            record.msg = "Discord: gateway unreachable (%s); reconnecting in %.2f s"
            record.args = (reason, *(record.args if isinstance(record.args, tuple) else ()))
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_reconnect_logs() -> None:
    """Install `ReconnectLogFilter` on discord.py's client logger (once)."""
    logger = logging.getLogger(_CLIENT_LOGGER)
    if not any(isinstance(f, ReconnectLogFilter) for f in logger.filters):
        logger.addFilter(ReconnectLogFilter())


GATEWAY_BACKOFF_MAX_EXP = 6
"""Gateway reconnect waits are drawn from [0, 2^exp s], exp growing per failure up to this: 64 s."""


class CappedGatewayBackoff(ExponentialBackoff):  # type: ignore[type-arg]
    """discord.py's reconnect back-off (the same full jitter), with its waits capped at 64 s."""

    def __init__(self, base: int = 1, *, integral: bool = False) -> None:
        super().__init__(base, integral=integral)
        self._max = GATEWAY_BACKOFF_MAX_EXP


def cap_gateway_backoff() -> None:
    """Make ``Client.connect`` use `CappedGatewayBackoff` (process-wide, idempotent)."""
    discord.client.ExponentialBackoff = CappedGatewayBackoff  # type: ignore[misc]
