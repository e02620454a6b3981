"""ChatCore: everything a chat front-end does, minus the platform.

``handle`` parses a message with the one parser, applies input limits, answers the cheap commands in
process (/check, /forms, /help), and submits poem requests to the queue through ``PoemService``,
whose admission script enforces rate limits and the queue bound before anything reaches a worker.
``render_reply`` turns a worker's ``PoemReply`` into the text users see. Front-ends stay thin.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from bots.core.admission import BusyNotices, GroupBudget, group_send_budget
from bots.core.cards import PoemCards, read_poem_message
from bots.core.commands import (
    COMMAND_ALIASES,
    GAME_COMMAND_NAMES,
    Command,
    CommandError,
    CommandOptions,
    build_command,
    parse_command,
)
from bots.core.format import (
    render_check,
    render_ci_check,
    render_cipai_list,
    render_forms,
    render_poem,
    render_rhyme,
    render_yun,
)
from bots.core.games.service import GameService
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings
from bots.core.store import BotStore
from poetcore.errors import PoetcoreInputError
from poetcore.lexicon.rhyme_lookup import group_chars, lookup_char
from poetcore.lexicon.suggest import suggest
from poetcore.lines import LineIndex, open_line_index
from poetcore.prosody.checker import STYLE_JINTI
from poetcore.prosody.ci_check import CiReport, check_text
from poetcore.prosody.forms import COUPLETS
from worker.contract.protocol import PoemOptions, PoemReply, PoemRequest, new_request_id
from worker.contract.service import AsyncPoemService, PoemService, SubmitResult

__all__ = ["MENU", "ChatCore"]

log = logging.getLogger(__name__)

MENU = ("poem", "ci", "acrostic", "continue", "couplet", "check", "card", "rhyme", "yun", "fhl", "jieju", "cai", "answer", "hint", "stop", "rank", "forms", "queue", "cancel",
        "help")
"""Commands shown in platform menus (setMyCommands, slash commands), in this order (canonical names)."""

ROUTE_KEY = "core"
"""The chat core's own entry in a request's ``route``; the rest belongs to the front-end."""

_FAILURE_KEYS = {
    "timeout": "failed_timeout",
    "worker_crashed": "failed_crashed",
    "internal": "failed_internal",
    "bad_request": "failed_internal",
    "unsupported_version": "failed_version",
    "cancelled": "failed_cancelled",
}
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_-]")


@functools.lru_cache(maxsize=4)
def _shared_index(path: Path | None) -> LineIndex:
    """One open index per file per process, whichever cores use it."""
    return open_line_index(path)


def _request_id(msg: IncomingMessage) -> str:
    """Derived from the platform message id when there is one, so a re-delivered update (webhook
    retry, restart mid-update) is recognised by the queue as a duplicate instead of a second poem."""
    if not msg.message_id:
        return new_request_id()
    rid = _UNSAFE_ID.sub("", f"{msg.platform}_{msg.chat_id}_{msg.message_id}")
    return rid if 0 < len(rid) <= 64 else new_request_id()


def _cancelled_text(request: PoemRequest | None, locale: str | None) -> str:
    """"已取消《秋月》（七绝）": the cancelled request named by its kind and its topic, heads or first line."""
    if request is None:
        return t("cancel_ok", locale)
    if request.kind == "acrostic":
        return t("cancel_ok_acrostic", locale, heads=request.heads, form=request.form)
    if request.kind == "continue" and request.form in COUPLETS:
        return t("cancel_ok_couplet", locale, line=request.prefix)
    if request.kind == "continue":
        return t("cancel_ok_continue", locale, first=(request.prefix or "").split("，")[0], form=request.form)
    return t("cancel_ok_poem", locale, topic=request.topic or request.form, form=request.form)


@dataclass(frozen=True)
class _Reply:
    """Builds answers to one incoming message."""

    msg: IncomingMessage

    def __call__(self, text: str, request_id: str | None = None) -> list[OutgoingMessage]:
        return [OutgoingMessage(self.msg.chat_id, text, reply_to_message_id=self.msg.message_id, request_id=request_id)]


class ChatCore:
    """The platform-neutral bot: one per front-end (``bot_username`` is per platform).

    Args:
        service: the queue client (``PoemService``, or ``AsyncPoemService`` around one).
        settings: bot settings (default form, input limits, how long placeholders are kept).
        bot_username: the bot's own handle, so ``/poem@other_bot`` is ignored in groups; front-ends
            that learn it at start-up (Telegram's getMe) assign ``core.bot_username`` then.
        line_index: the games' index (default: ``settings.line_index``, else the built-in one).
    """

    def __init__(
        self, service: PoemService | AsyncPoemService, settings: BotSettings, bot_username: str | None = None,
        line_index: LineIndex | None = None,
    ) -> None:
        self.service = service if isinstance(service, AsyncPoemService) else AsyncPoemService(service)
        self.settings = settings
        self.bot_username = bot_username
        self.store = BotStore(self.service.sync.connection, ttl_s=settings.placeholder_ttl_s)
        self.uses_placeholders = True  # the front-end sends a "正在作诗…" to edit (Discord defers instead)
        index = line_index or _shared_index(settings.line_index)
        self.games = GameService(self.service.sync.connection, index, settings)
        self.notices = BusyNotices(self.service.sync.connection, settings.group_notice_window_s)
        self.cards = PoemCards(settings.card_font)  # /card, and the picture button under a poem

    # --- incoming ----------------------------------------------------------------------------
    async def handle(self, msg: IncomingMessage, options: CommandOptions | None = None) -> list[OutgoingMessage]:
        """Answer one message: [] when it is not for this bot, else the replies to send now.

        ``options``: the command as the platform typed it (Discord's slash options); it is built
        from them by the parser's own rules instead of from ``msg.text``.
        """
        reply = _Reply(msg)
        try:
            if options is not None:
                cmd: Command | None = build_command(options, default_form=self.settings.default_form,
                                                    limits=self.settings.limits)
            else:
                cmd = parse_command(
                    msg.text,
                    default_form=self.settings.default_form,
                    bot_username=self.bot_username,
                    is_group=msg.is_group,
                    limits=self.settings.limits,
                )
        except CommandError as exc:
            return reply(exc.message(msg.locale))
        if cmd is None:
            try:
                answered = await self.games.plain(msg, addressed=msg.reply_to_bot)
            except redis.RedisError:
                log.exception("chat: games unavailable for %s:%s", msg.platform, msg.chat_id)
                answered = None
            if answered is not None:  # a game runs here: the text was an answer (or chatter, ignored)
                return answered
            # In a private chat every message is for us: point lost users at the commands.
            return [] if msg.is_group or not msg.text.strip() else reply(t("hint_plain_text", msg.locale))
        try:
            return await self._dispatch(cmd, msg, reply)
        except redis.RedisError:
            log.exception("chat: queue unavailable while handling %s from %s:%s", cmd.name, msg.platform, msg.chat_id)
            return reply(t("service_unavailable", msg.locale))

    async def _dispatch(self, cmd: Command, msg: IncomingMessage, reply: _Reply) -> list[OutgoingMessage]:
        loc = msg.locale
        if cmd.name in ("poem", "acrostic", "continue", "couplet"):
            return await self._submit(cmd, msg, reply)
        if cmd.name == "check":
            return reply(self._check(cmd, loc))
        if cmd.name == "card":
            return await self._card(msg, reply)
        if cmd.name == "rhyme":
            return reply(render_rhyme(await asyncio.to_thread(lookup_char, cmd.text or "", self.games.index), loc))
        if cmd.name == "yun":
            return reply(render_yun(cmd.text or "", group_chars(cmd.text or ""), loc))
        if cmd.name == "forms":
            return reply(render_forms(loc))
        if cmd.name == "ci_list":
            return reply(render_cipai_list(loc))
        if cmd.name == "queue":
            return reply(await self._queue(msg))
        if cmd.name == "cancel":
            return reply(await self._cancel(msg))
        if cmd.name == "start":
            return reply(t("start", loc, help=self.help_text(loc)))
        if cmd.name in GAME_COMMAND_NAMES:
            return await self.games.command(cmd.name, cmd.text or "", msg)
        return reply(self.help_text(loc))

    def help_text(self, locale: str | None) -> str:
        """The /help answer (also the console demo's banner): the commands, then the games and their index."""
        return (t("help", locale, default_form=self.settings.default_form, max_topic=self.settings.max_topic_chars)
                + "\n\n" + t("fhl_help", locale, index=self.games.index_note(locale)))

    @staticmethod
    def _check(cmd: Command, locale: str | None) -> str:
        """A 诗 or a 词, as the engine reads it (`check_text`); replacements only for a regulated poem
        (a 古绝 is not made regular unless the user names a 律绝: ``/check 五绝 春眠不觉晓…``)."""
        try:
            report = check_text(cmd.text or "", cmd.form)
        except PoetcoreInputError as exc:
            if exc.code in ("ci_uncharted", "ci_shape_mismatch"):  # a titled 词: the answer names its 词牌
                return exc.message(locale)
            return t("check_shape", locale, reason=exc.message(locale))
        if isinstance(report, CiReport):
            return render_ci_check(report, locale)
        regular = report.style == STYLE_JINTI
        return render_check(report, locale, suggest(report, k=3) if regular and not report.ok else ())

    async def _card(self, msg: IncomingMessage, reply: _Reply) -> list[OutgoingMessage]:
        """``/card`` replying to a poem of ours: the poem as a picture, captioned with its text (drawn
        in a thread; its text when no picture can be drawn)."""
        if not msg.replied_text:
            return reply(t("card_how", msg.locale))
        poem = read_poem_message(msg.replied_text)
        if poem is None:
            return reply(t("card_not_poem", msg.locale))
        return [await self.cards.message(poem, chat_id=msg.chat_id, reply_to=msg.message_id, locale=msg.locale)]

    async def _submit(self, cmd: Command, msg: IncomingMessage, reply: _Reply) -> list[OutgoingMessage]:
        loc = msg.locale
        route: dict[str, Any] = dict(msg.route or {})
        # Only where to answer rides with the request: what to write is the request's own fields,
        # and the reply says how it was written (script, couplet form, the user's lines' faults).
        route[ROUTE_KEY] = {"reply_to": msg.message_id} if msg.message_id else {}
        options = PoemOptions(traditional=cmd.traditional, **({"n": self.settings.candidates} if self.settings.candidates else {}))
        request = PoemRequest(
            request_id=_request_id(msg),
            platform=msg.platform,
            chat_id=msg.chat_id,
            user_id=msg.user_id,
            locale=(msg.locale or "zh")[:16],
            kind="acrostic" if cmd.name == "acrostic" else "continue" if cmd.name in ("continue", "couplet") else "poem",
            prefix=cmd.text if cmd.name in ("continue", "couplet") else None,
            topic=cmd.topic or "",
            form=cmd.form or self.settings.default_form,
            heads=cmd.heads,
            rhyme=cmd.rhyme,
            options=options,
            route=route,
        )
        budget = await self._group_budget(msg)
        placeholder = await self._placeholder_mode(msg)
        if self.uses_placeholders and placeholder == "each":
            # The poem can be published before the placeholder's send returns: mark it as coming.
            await self.store.mark_placeholder_pending(msg.platform, request.request_id,
                                                      self.settings.placeholder_wait_s * 4)
        result: SubmitResult = await self.service.submit(
            request, chat_limit=None if budget is None else budget.admissible)
        if result.outcome in ("rate_limited", "busy") and self._refuse_by_notice(msg, budget):
            # A group's refusals share one notice per window: answering each would spend the very
            # send budget that ran out.
            await self.notices.add(msg.platform, msg.chat_id, msg.user_name or msg.user_id,
                                   result.retry_after_s or (budget.retry_after_s if budget else 60), loc)
            return []
        if result.outcome == "rate_limited":
            key = "rate_limited_chat" if result.scope == "chat" else "rate_limited"
            return reply(t(key, loc, seconds=result.retry_after_s or 1))
        if result.outcome == "busy":
            return reply(t("queue_full", loc, seconds=result.retry_after_s or 1))
        if result.outcome == "duplicate":
            # The same message again (a re-delivered update after a crash or a webhook retry): answer as
            # the first time only if that answer never left; otherwise say nothing at all.
            if placeholder != "each" or await self.store.placeholder_id(msg.platform, request.request_id):
                return []
            if not self.uses_placeholders:
                return reply(t("duplicate", loc))
        await self.store.add_request(msg.platform, msg.user_id, request.request_id)
        if placeholder != "each":
            return reply(t("group_busy", loc, seconds=placeholder)) if isinstance(placeholder, int) else []
        if cmd.name == "acrostic":
            text = t("placeholder_acrostic", loc, heads=cmd.heads, form=request.form)
        elif cmd.name == "continue":
            text = t("placeholder_continue", loc, first=(cmd.text or "").split("，")[0], form=request.form)
        elif cmd.name == "couplet":
            text = t("placeholder_couplet", loc, line=cmd.text)
        else:
            text = t("placeholder_poem", loc, topic=cmd.topic, form=request.form)
        if result.position:
            text += t("placeholder_position", loc, position=result.position)
        return reply(text, request_id=request.request_id)

    async def _group_budget(self, msg: IncomingMessage) -> GroupBudget | None:
        """What this group may still have admitted in the chat window (None: a private chat, or a
        platform without a per-group limit): its send budget less what is spoken for."""
        if not msg.is_group:
            return None
        window_s = self.service.sync.settings.chat_window_s
        send_budget = group_send_budget(msg.platform, window_s, self.settings)
        if send_budget is None:
            return None
        counted, ttl, games = await self.store.group_usage(msg.platform, msg.chat_id)
        limit = self.settings.group_placeholder_limit
        placeholders = counted if not limit else min(counted, limit) + (1 if counted > limit else 0)
        spoken_for = placeholders + games + self.notices.notices_per(window_s)
        return GroupBudget(send_budget, spoken_for, retry_after_s=ttl or window_s)

    @staticmethod
    def _refuse_by_notice(msg: IncomingMessage, budget: GroupBudget | None) -> bool:
        """Group refusals (a group with a send budget) go into the group's combined notice; a Discord
        slash command is still answered on its own (the interaction must be, and its follow-up is not
        a channel message)."""
        return budget is not None and (msg.route or {}).get("kind") != "interaction"

    async def _placeholder_mode(self, msg: IncomingMessage) -> str | int:
        """How to answer a poem request at once: "each" (its own "正在作诗…" placeholder), "quiet"
        (nothing), or the seconds left in the window (say once that the group is busy).

        A busy group gets at most ``group_placeholder_limit`` placeholders per window, then one
        notice, then none: each request costs one message (its poem) instead of two or three, which
        is what lets a group stay under Telegram's 20 messages a minute. Only requests the poem can
        reply to (they have a message id) go without a placeholder.
        """
        limit = self.settings.group_placeholder_limit
        if not (msg.is_group and msg.message_id and limit):
            return "each"
        count, seconds_left = await self.store.count_group_placeholders(msg.platform, msg.chat_id,
                                                                        self.settings.group_placeholder_window_s)
        if count <= limit:
            return "each"
        return seconds_left if count == limit + 1 else "quiet"

    async def _queue(self, msg: IncomingMessage) -> str:
        loc = msg.locale
        for rid in await self.store.recent_requests(msg.platform, msg.user_id):
            status = await self.service.status(rid)
            if status.state == "queued" and status.position:
                return t("queue_waiting", loc, position=status.position, length=status.queue_length)
            if status.state in ("queued", "running"):
                return t("queue_running", loc, length=status.queue_length)
        return t("queue_none", loc, length=await self.service.queue_length())

    async def _cancel(self, msg: IncomingMessage) -> str:
        too_late = False
        for rid in await self.store.recent_requests(msg.platform, msg.user_id):
            result = await self.service.cancel(rid, msg.user_id)
            if result.outcome == "cancelled":
                return _cancelled_text(result.request, msg.locale)
            too_late = too_late or result.outcome == "running"
        return t("cancel_too_late" if too_late else "cancel_none", msg.locale)

    # --- replies -----------------------------------------------------------------------------
    def render_reply(self, reply: PoemReply) -> OutgoingMessage:
        """The poem (or a clear failure) as a message for the requester's chat."""
        core_route = reply.route.get(ROUTE_KEY) or {}
        loc = reply.locale
        if reply.status == "ok" and reply.poem is not None and reply.poem.form in COUPLETS:
            first, second = reply.poem.lines[0], reply.poem.lines[1]
            text = t("couplet_reply", loc, first=first, second=second, rhyme=reply.poem.rhyme_group or "—")
        elif reply.status == "ok" and reply.poem is not None:
            poem = reply.poem
            text = render_poem(
                title=poem.title,
                lines=poem.lines,
                form=poem.form,
                rhyme=poem.rhyme_group,
                locale=loc,
                traditional=poem.traditional,
                marks=poem.marks,
            )
            if poem.prefix_faults:  # the user's own lines break the chart: say where, in the checker's words
                text += "\n\n" + t("continue_faults", loc, faults="；".join(f.message(loc) for f in poem.prefix_faults))
        else:
            code = reply.error.code if reply.error else "internal"
            key = _FAILURE_KEYS.get(code)
            # Other codes are the engine rejecting the input: its own zh/en words say what to change.
            engine_words = reply.error.engine_message(loc) if reply.error else None
            text = t(key, loc) if key else t("failed", loc, reason=engine_words or code)
        reply_to = core_route.get("reply_to")
        return OutgoingMessage(chat_id=reply.chat_id, text=text, reply_to_message_id=str(reply_to) if reply_to else None)

    async def remember_placeholder(self, platform: str, request_id: str, message_id: str) -> None:
        """Front-ends call this after sending a placeholder, so the poem can replace it."""
        await self.store.remember_placeholder(platform, request_id, message_id)

    async def remember_board(self, platform: str, board_key: str, message_id: str) -> None:
        """Front-ends call this after sending a game board (``OutgoingMessage.board_key``), so later
        moves edit it."""
        await self.store.remember_board(platform, board_key, message_id)

    async def game_visible(self, platform: str, out: OutgoingMessage, at: float) -> None:
        """Front-ends call this once a game message that starts a clock (``out.clock``) is visible:
        the turn's time counts from ``at``, not from when the move was judged."""
        await self.games.shown(platform, out, at)

    async def placeholder_id(self, platform: str, request_id: str, wait: bool = False) -> str | None:
        """The placeholder to edit into the poem; with ``wait``, give one still being sent a moment."""
        return await self.store.placeholder_id(platform, request_id, self.settings.placeholder_wait_s if wait else 0)

    async def forget_placeholder(self, platform: str, request_id: str) -> None:
        await self.store.forget_placeholder(platform, request_id)

    # --- menus -------------------------------------------------------------------------------
    def command_descriptions(self, locale: str) -> list[tuple[str, str]]:
        """(command, description) for platform menus: Telegram setMyCommands, Discord slash sync."""
        return [(COMMAND_ALIASES[name][0], t(f"cmd_{name}", locale)) for name in MENU]
