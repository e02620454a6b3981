"""The Discord client: slash commands and prefix commands in, chat-core replies out.

Handlers stay thin: turn a Discord event into an ``IncomingMessage``, call ``core.handle`` and send
what it returns. Parsing, limits, queueing and wording all live in the chat core.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

import aiohttp
import discord
from discord import app_commands

from bots.core.commands import COMMAND_ALIASES
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import DiscordSettings
from bots.core.store import BotStore
from bots.discord.commands import SLASH_COMMANDS, PoetTranslator, register_commands
from bots.discord.delivery import DiscordSender, interaction_route, message_route, split_text

__all__ = ["ChatHandler", "PoetClient"]

log = logging.getLogger(__name__)

HANDLER_GRACE_S = 5.0
"""On close, how long running command handlers may keep going to deliver what they were sending."""

_ASCII_ALIASES = frozenset(a for aliases in COMMAND_ALIASES.values() for a in aliases if a.isascii())


class ChatHandler(Protocol):
    """What the client needs from the chat core (``bots.core.chat.ChatCore`` provides it)."""

    async def handle(self, msg: IncomingMessage) -> list[OutgoingMessage]: ...

    def command_descriptions(self, locale: str) -> list[tuple[str, str]]: ...


BackgroundJob = Callable[["PoetClient"], Awaitable[None]]


class PoetClient(discord.Client):
    """A ``discord.Client`` with the poem slash commands on its ``CommandTree``.

    Args:
        core: the chat core that parses and answers every command.
        settings: Discord settings (prefix, intents, follow-up window, ...).
        background: coroutine functions started once logged in, e.g. the reply-delivery loop;
            they are cancelled on close.
        store: where interaction tokens wait for the poem's follow-up (None: poems go to the channel).
        options: passed to ``discord.Client`` (e.g. ``proxy``, ``guild_ready_timeout``).
    """

    def __init__(self, core: ChatHandler, settings: DiscordSettings, *,
                 background: tuple[BackgroundJob, ...] = (), store: BotStore | None = None,
                 **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = settings.message_content
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), **options)
        self.core = core
        self.settings = settings
        self.sender = DiscordSender(self, settings.followup_window_s, store)
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self._on_app_command_error  # type: ignore[method-assign]
        zh = {name: desc for name, desc in core.command_descriptions("zh") if name in SLASH_COMMANDS}
        register_commands(self.tree, self.run_slash, zh)
        self._background = background
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: set[asyncio.Task[Any]] = set()  # event handlers still talking to Discord

    # ----------------------------------------------------------------- start-up
    async def setup_hook(self) -> None:
        """Runs after login, before the gateway connects: translations, command sync, background jobs."""
        en = {name: desc for name, desc in self.core.command_descriptions("en") if name in SLASH_COMMANDS}
        await self.tree.set_translator(PoetTranslator(en))
        if self.settings.sync_commands:
            synced = await self.tree.sync()
            log.info("Discord: synced %d slash commands: %s", len(synced), ", ".join(c.name for c in synced))
        for job in self._background:
            task = asyncio.create_task(self._run_background(job), name=f"discord-{job.__name__}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_background(self, job: BackgroundJob) -> None:
        try:
            await job(self)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Discord: background job %s stopped", job.__name__)

    async def close(self) -> None:
        """Stop background jobs, give running handlers a moment to send their replies, disconnect."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        handlers = self._inflight - {asyncio.current_task()}
        if handlers:
            await asyncio.wait(handlers, timeout=HANDLER_GRACE_S)
        # discord.py leaves its "wait for guilds, then dispatch on_ready" task running on close; a
        # client closed during start-up would then fire on_ready on a dead loop.
        ready = getattr(self._connection, "_ready_task", None)
        if ready is not None:
            ready.cancel()
        await super().close()

    @contextlib.contextmanager
    def _handling(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            yield
        finally:
            self._inflight.discard(task)  # type: ignore[arg-type]

    async def on_ready(self) -> None:
        log.info("Discord: logged in as %s (id %s) in %d servers", self.user, self.user and self.user.id,
                 len(self.guilds))

    # ----------------------------------------------------------------- slash commands
    async def run_slash(self, interaction: discord.Interaction, text: str) -> None:
        """Defer at once (Discord allows 3 s), let the core answer, send its replies as follow-ups."""
        with self._handling():
            await self._run_slash(interaction, text)

    async def _run_slash(self, interaction: discord.Interaction, text: str) -> None:
        await interaction.response.defer(thinking=True)
        route = interaction_route(interaction)
        await self.sender.remember_token(interaction, route)
        msg = IncomingMessage(
            platform="discord",
            chat_id=str(interaction.channel_id),
            user_id=str(interaction.user.id),
            text=text,
            locale=str(interaction.locale),
            is_group=interaction.guild_id is not None,
            route=route,
            user_name=interaction.user.display_name,
        )
        outgoing = await self.core.handle(msg)
        for board in (o for o in outgoing if o.board_key):
            # A game board lives in the channel as the bot's own message, so any later move (slash or
            # prefix, whoever plays) can edit it; interaction follow-ups belong to one token.
            await self.sender.answer(board, msg)
        outgoing = [o for o in outgoing if not o.board_key]
        if not outgoing:  # nothing (more) to say: remove the "thinking…" placeholder
            await interaction.delete_original_response()
            return
        mentions = discord.AllowedMentions(everyone=False, roles=False, users=False)
        for out in outgoing:
            for chunk in split_text(out.text):
                await interaction.followup.send(chunk, allowed_mentions=mentions)

    # ----------------------------------------------------------------- prefix commands
    def command_text(self, message: discord.Message) -> tuple[str, bool] | None:
        """(text to parse, addressed to us) for a user message; None when the bot should ignore it.

        The configured prefix becomes ``!``, and a leading @mention of the bot is dropped (a bare
        command word after it gets the prefix), so ``@PoetBot poem 秋月`` works even without the
        message-content intent, which Discord waives for messages that mention the bot.
        """
        if message.author.bot or self.user is None:
            return None
        text = message.content.strip()
        mention = re.match(rf"^<@!?{self.user.id}>\s*", text)
        if mention:
            text = text[mention.end():]
            if not text:
                return "!help", True
            if text.split(maxsplit=1)[0].lower() in _ASCII_ALIASES:
                text = "!" + text
        prefix = self.settings.prefix
        if prefix != "!" and text.startswith(prefix):
            text = "!" + text[len(prefix):]
        return (text, bool(mention)) if text else None

    async def on_message(self, message: discord.Message) -> None:
        with self._handling():
            await self._on_message(message)

    async def _on_message(self, message: discord.Message) -> None:
        parsed = self.command_text(message)
        if parsed is None:
            return
        text, addressed = parsed
        resolved = message.reference.resolved if message.reference else None
        replies_to_us = isinstance(resolved, discord.Message) and self.user is not None and resolved.author.id == self.user.id
        msg = IncomingMessage(
            platform="discord",
            chat_id=str(message.channel.id),
            user_id=str(message.author.id),
            text=text,
            message_id=str(message.id),
            # A message that @mentions the bot is a private word with it: the core then answers
            # plain text with a hint instead of staying quiet as it does for group chatter.
            is_group=message.guild is not None and not addressed,
            route=message_route(message),
            user_name=message.author.display_name,
            reply_to_bot=replies_to_us,
        )
        for out in await self.core.handle(msg):
            await self.sender.answer(out, msg)

    # ----------------------------------------------------------------- the one error handler
    async def report_error(self, error: BaseException, *, interaction: discord.Interaction | None = None,
                           message: discord.Message | None = None) -> None:
        """Log an unexpected error with its traceback, and tell the user in their language."""
        where = f"interaction {interaction.id}" if interaction else f"message {message.id}" if message else "event"
        log.error("Discord: error handling %s", where, exc_info=error)
        text = t("internal_error", str(interaction.locale) if interaction else None)
        try:
            if interaction is not None:
                if interaction.response.is_done():
                    await interaction.followup.send(text)
                else:
                    await interaction.response.send_message(text, ephemeral=True)
            elif message is not None:
                await self.sender.channel(str(message.channel.id), text, reply_to=str(message.id))
        except (discord.HTTPException, aiohttp.ClientError, OSError, RuntimeError) as exc:
            log.warning("Discord: could not tell the user about the error: %r", exc)

    async def _on_app_command_error(self, interaction: discord.Interaction,
                                    error: app_commands.AppCommandError) -> None:
        await self.report_error(getattr(error, "original", error), interaction=interaction)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        message = args[0] if event_method == "on_message" and args and isinstance(args[0], discord.Message) else None
        await self.report_error(error or RuntimeError(event_method), message=message)
