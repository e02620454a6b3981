"""The Discord client: slash commands and prefix commands in, chat-core replies out.

Handlers stay thin: turn a Discord event into an ``IncomingMessage`` (and a slash command's options
into `CommandOptions`), call ``core.handle`` and send what it returns. Parsing, limits, queueing
and wording all live in the chat core. One channel's events are handled one at a time, in the
order they arrived (`bots.discord.order`); different channels are handled side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Protocol

import aiohttp
import discord
from discord import app_commands

from bots.core.commands import COMMAND_ALIASES, CommandOptions
from bots.core.messages import t
from bots.core.metrics import UPDATE_FAILURES
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import DiscordSettings
from bots.core.store import BotStore
from bots.discord.commands import SLASH_COMMANDS, PoetTranslator, register_commands
from bots.discord.compat import cancel_ready_task
from bots.discord.link import PLATFORM, DiscordLink, is_transient
from bots.discord.order import ChannelOrder, Turn
from bots.discord.sender import DiscordSender, interaction_route, message_route

__all__ = ["ChatHandler", "PoetClient", "PoetTree"]

log = logging.getLogger(__name__)

HANDLER_GRACE_S = 5.0
"""On close, how long running command handlers may keep going to deliver what they were sending."""

TURN = "poetcore.turn"
"""``Interaction.extras`` key of the interaction's place in its channel's line."""

_ASCII_ALIASES = frozenset(a for aliases in COMMAND_ALIASES.values() for a in aliases if a.isascii())


class ChatHandler(Protocol):
    """What the client needs from the chat core (``bots.core.chat.ChatCore`` provides it)."""

    async def handle(self, msg: IncomingMessage, options: CommandOptions | None = None) -> list[OutgoingMessage]: ...

    def command_descriptions(self, locale: str) -> list[tuple[str, str]]: ...

    async def remember_board(self, platform: str, board_key: str, message_id: str) -> None: ...

    async def game_visible(self, platform: str, out: OutgoingMessage, at: float) -> None: ...


BackgroundJob = Callable[["PoetClient"], Awaitable[None]]


def _channel_key(channel_id: int | None, fallback: object) -> str:
    return str(channel_id) if channel_id is not None else f"solo:{fallback}"


class PoetTree(app_commands.CommandTree["PoetClient"]):
    """The command tree; its global check reserves each interaction's turn in its channel.

    ``interaction_check`` runs in the first step of the task discord.py starts for the interaction,
    before anything awaits, which is what makes the reservation follow arrival order.
    """

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        interaction.extras[TURN] = self.client.order.reserve(_channel_key(interaction.channel_id, interaction.id))
        return True


class PoetClient(discord.Client):
    """A ``discord.Client`` with the poem slash commands on its ``CommandTree``.

    Args:
        core: the chat core that parses and answers every command.
        settings: Discord settings (prefix, intents, follow-up window, ...).
        background: coroutine functions started once logged in, e.g. the reply-delivery loop;
            they are cancelled on close.
        store: where interaction tokens wait for the poem's follow-up (None: poems go to the channel).
        link: the link to Discord, shared by the clients ``run_discord`` makes one after another
            (None: a link of this client's own).
        delivery_window_s: how long a queued reply may wait for Discord (see `DiscordSender`).
        options: passed to ``discord.Client`` (e.g. ``proxy``, ``guild_ready_timeout``).
    """

    def __init__(self, core: ChatHandler, settings: DiscordSettings, *,
                 background: tuple[BackgroundJob, ...] = (), store: BotStore | None = None,
                 link: DiscordLink | None = None, delivery_window_s: float | None = None,
                 **options: Any) -> None:
        intents = discord.Intents.default()
        intents.message_content = settings.message_content
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(), **options)
        self.core = core
        self.settings = settings
        self.link = link or DiscordLink()
        self.link.use_probe(self.application_info)
        self.order = ChannelOrder()
        self.sender = DiscordSender(self, self.link, boards=core, followup_window_s=settings.followup_window_s,
                                    store=store, delivery_window_s=delivery_window_s)
        self.tree = PoetTree(self)
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
        cancel_ready_task(self)
        await self.link.close()
        await super().close()

    @contextlib.contextmanager
    def _handling(self) -> Iterator[None]:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._inflight.discard(task)

    async def on_ready(self) -> None:
        log.info("Discord: logged in as %s (id %s) in %d servers", self.user, self.user and self.user.id,
                 len(self.guilds))
        self.link.gateway_up()

    async def on_resumed(self) -> None:
        self.link.gateway_up()

    async def on_disconnect(self) -> None:
        self.link.gateway_down()

    # ----------------------------------------------------------------- slash commands
    async def run_slash(self, interaction: discord.Interaction, options: CommandOptions) -> None:
        """Defer at once (Discord allows 3 s), wait for the channel's turn, let the core answer, and
        send its replies as follow-ups."""
        with self._handling():
            turn = interaction.extras.get(TURN)
            if not isinstance(turn, Turn):  # not reserved by PoetTree: take the turn now
                turn = self.order.reserve(_channel_key(interaction.channel_id, interaction.id))
            deferred = await self._defer(interaction)
            async with turn:
                await self._run_slash(interaction, options, deferred)

    async def _defer(self, interaction: discord.Interaction) -> bool:
        """Acknowledge the interaction ("PoetBot is thinking…"). When Discord is unreachable, or the
        3 s are gone, the command is still answered: in the channel, addressed to the user."""
        try:
            await interaction.response.defer(thinking=True)
            return True
        except Exception as exc:
            if not (isinstance(exc, discord.HTTPException) or is_transient(exc)):
                raise
            if is_transient(exc):
                self.link.rest_failed("defer", exc)
            UPDATE_FAILURES.labels(platform=PLATFORM, kind="transient").inc()
            log.warning("Discord: could not acknowledge interaction %s (%s); answering in the channel",
                        interaction.id, getattr(exc, "status", type(exc).__name__))
            return False

    async def _run_slash(self, interaction: discord.Interaction, options: CommandOptions, deferred: bool) -> None:
        route = interaction_route(interaction)
        if deferred:
            await self.sender.remember_token(interaction, route)
        msg = IncomingMessage(
            platform=PLATFORM,
            chat_id=str(interaction.channel_id),
            user_id=str(interaction.user.id),
            text=f"/{options.name}",
            locale=str(interaction.locale),
            is_group=interaction.guild_id is not None,
            route=route,
            user_name=interaction.user.display_name,
        )
        outgoing = await self.core.handle(msg, options)
        give_up_at = self.sender.answer_deadline(route)
        for board in (o for o in outgoing if o.board_key):
            # A game board lives in the channel as the bot's own message, so any later move (slash or
            # prefix, whoever plays) can edit it; interaction follow-ups belong to one token.
            await self.sender.answer(board, msg, give_up_at=give_up_at)
        outgoing = [o for o in outgoing if not o.board_key]
        if not outgoing:
            if deferred:
                await self.sender.remove_thinking(interaction)
            return
        for out in outgoing:
            await self.sender.interaction_answer(interaction, route, out.text, deferred=deferred)
            if out.clock is not None:  # a game's turn starts once its message is visible
                await self.core.game_visible(PLATFORM, out, time.time())

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
            parsed = self.command_text(message)
            if parsed is None:
                return
            # Reserved here, before the first await: the channel's line follows arrival order.
            async with self.order.reserve(_channel_key(message.channel.id, message.id)):
                await self._on_message(message, *parsed)

    async def _on_message(self, message: discord.Message, text: str, addressed: bool) -> None:
        resolved = message.reference.resolved if message.reference else None
        replies_to_us = isinstance(resolved, discord.Message) and self.user is not None and resolved.author.id == self.user.id
        msg = IncomingMessage(
            platform=PLATFORM,
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
            replied_text=resolved.content if isinstance(resolved, discord.Message) else None,
        )
        give_up_at = self.sender.answer_deadline()
        for out in await self.core.handle(msg):
            await self.sender.answer(out, msg, give_up_at=give_up_at)

    # ----------------------------------------------------------------- the one error handler
    async def report_error(self, error: BaseException, *, interaction: discord.Interaction | None = None,
                           message: discord.Message | None = None) -> None:
        """Log an unexpected error with its traceback, and tell the user in their language.

        Discord itself unreachable for longer than the answer could wait is no bug: one WARNING line,
        and nobody to tell.
        """
        where = f"interaction {interaction.id}" if interaction else f"message {message.id}" if message else "event"
        if is_transient(error):
            UPDATE_FAILURES.labels(platform=PLATFORM, kind="transient").inc()
            log.warning("Discord: could not answer %s: Discord stayed unreachable (%r)", where, error)
            return
        UPDATE_FAILURES.labels(platform=PLATFORM, kind="error").inc()
        log.error("Discord: error handling %s", where, exc_info=error)
        text = t("internal_error", str(interaction.locale) if interaction else None)
        try:
            if interaction is not None:
                if interaction.response.is_done():
                    await interaction.followup.send(text)
                else:
                    await interaction.response.send_message(text, ephemeral=True)
            elif message is not None:
                await self.sender.channel(str(message.channel.id), text, reply_to=str(message.id),
                                          give_up_at=self.sender.answer_deadline())
        except (discord.HTTPException, aiohttp.ClientError, OSError, RuntimeError) as exc:
            log.warning("Discord: could not tell the user about the error: %r", exc)

    async def _on_app_command_error(self, interaction: discord.Interaction,
                                    error: app_commands.AppCommandError) -> None:
        await self.report_error(getattr(error, "original", error), interaction=interaction)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        error = sys.exc_info()[1]
        message = args[0] if event_method == "on_message" and args and isinstance(args[0], discord.Message) else None
        await self.report_error(error or RuntimeError(event_method), message=message)
