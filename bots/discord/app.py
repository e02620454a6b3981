"""Entry points: build the Discord client, and run it with the reply-delivery loop until cancelled."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from bots.core.chat import ChatCore
from bots.core.clock import run_chat_clock
from bots.core.delivery import run_delivery
from bots.core.settings import DiscordSettings
from bots.core.store import BotStore
from bots.discord import compat
from bots.discord.client import BackgroundJob, ChatHandler, PoetClient
from bots.discord.link import DiscordLink, is_transient
from worker.contract.health import Health
from worker.contract.replies import ReplyConsumer

__all__ = ["DiscordSetupError", "build_client", "configure_endpoints", "run_discord"]

log = logging.getLogger(__name__)


class DiscordSetupError(RuntimeError):
    """The bot cannot start because of its configuration; the message says how to fix it."""


def configure_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at ``DISCORD_API_BASE`` / ``DISCORD_GATEWAY_URL`` when they are set.

    discord.py keeps both as class attributes, so this is process-wide: meant for tests and for
    operators behind an API proxy. Unset values leave the library's Discord defaults alone.
    """
    compat.configure_endpoints(settings.api_base, settings.gateway_url)


def build_client(core: ChatHandler, settings: DiscordSettings, *,
                 background: tuple[BackgroundJob, ...] = (), store: BotStore | None = None,
                 **options: Any) -> PoetClient:
    """A ready-to-start client for ``core``; ``background`` jobs start once it has logged in.

    ``store`` keeps interaction tokens for follow-ups; a ``ChatCore`` brings its own. ``options``
    go to `PoetClient` (``link``, ``delivery_window_s``) and on to ``discord.Client``.
    """
    configure_endpoints(settings)
    if isinstance(core, ChatCore):
        core.uses_placeholders = False  # Discord defers the interaction and answers it instead
        store = store or core.store
    return PoetClient(core, settings, background=background, store=store, **options)


async def run_discord(core: ChatCore, settings: DiscordSettings, consumer: ReplyConsumer | None,
                      health: Health | None = None, *, retry_first_s: float = 1.0, retry_max_s: float = 60.0,
                      **options: Any) -> None:
    """Run the Discord bot until cancelled: gateway events plus delivery of queued poem replies.

    ``consumer`` is the ``ReplyConsumer`` for platform ``"discord"`` that ``run_delivery`` reads
    (None: no delivery, e.g. when another process delivers). ``health``: the process's, whose part
    ``"discord"`` is ready only while Discord answers.

    Discord unreachable (at start, or its gateway or REST API mid-run) is waited out with back-off
    from ``retry_first_s`` up to ``retry_max_s``, jittered: the bot never exits for it. Raises
    ``DiscordSetupError`` with a fix for a missing or rejected token or a missing intent.
    """
    if settings.token is None or not settings.token.get_secret_value().strip():
        raise DiscordSetupError(
            "DISCORD_TOKEN is not set. Create a bot at https://discord.com/developers/applications "
            "(Bot -> Reset Token) and export DISCORD_TOKEN=<token>; see docs/discord.md."
        )
    token = settings.token.get_secret_value()
    compat.quiet_reconnect_logs()
    compat.cap_gateway_backoff()
    link = DiscordLink(health, retry_first_s=retry_first_s, retry_max_s=retry_max_s)

    background: tuple[BackgroundJob, ...] = ()
    delivery_window_s: float | None = None
    if consumer is not None:
        replies = consumer
        # A queued reply waits for Discord at most half its lease, then goes back to the stream.
        delivery_window_s = consumer.lease_ms / 2000

        async def deliver_replies(client: PoetClient) -> None:
            await run_delivery(core, replies, client.sender.send_reply)

        background = (deliver_replies,)

    async def game_clock(client: PoetClient) -> None:
        await run_chat_clock(core.games, core.notices, "discord", client.sender.timed)

    background = (*background, game_clock)
    backoff = link.backoff()
    while True:
        # A fresh client for each try: a failed login leaves discord.py's HTTP session half made.
        client = build_client(core, settings, background=background, link=link,
                              delivery_window_s=delivery_window_s, **options)
        try:
            async with client:
                try:
                    await client.login(token)
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    link.failed("login", exc)
                else:
                    backoff.reset()
                    try:
                        await client.connect(reconnect=True)
                        return  # closed: the bot is stopping
                    except Exception as exc:
                        if not (is_transient(exc) or compat.first_connect_failed(client, exc)):
                            raise
                        link.failed("gateway", exc)
        except discord.LoginFailure as exc:
            raise DiscordSetupError(
                "Discord rejected DISCORD_TOKEN (401). Copy the token again from the Developer Portal "
                "(your application -> Bot -> Reset Token); it is not the client secret or the application id."
            ) from exc
        except discord.PrivilegedIntentsRequired as exc:
            raise DiscordSetupError(
                "Discord refused the Message Content intent. Enable it in the Developer Portal (your "
                "application -> Bot -> Privileged Gateway Intents -> Message Content Intent), or set "
                "DISCORD_MESSAGE_CONTENT=false to run with slash commands and @mentions only."
            ) from exc
        await asyncio.sleep(backoff.next())
