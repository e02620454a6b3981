"""A local fake of the Telegram Bot API that a real python-telegram-bot ``Application`` can talk to.

It speaks the real HTTP protocol under ``/bot<token>/<method>`` (form-encoded or JSON parameters,
``{"ok": ..., "result": ...}`` answers), so the bot is pointed at it with nothing but
``ApplicationBuilder().base_url(fake.base_url)``. Implemented methods: getMe, getUpdates (real long
polling with offset/limit/timeout), sendMessage, editMessageText, setMessageReaction, sendChatAction,
setMyCommands, getMyCommands, deleteWebhook, setWebhook, getWebhookInfo.

Telegram's rules that matter to a bot are enforced, so a bot that breaks them fails here too:

- a wrong token gets 401; getUpdates while a webhook is set gets 409;
- editing a message that does not exist in that chat, or is not the bot's, gets 400, and so does
  an edit that changes nothing ("message is not modified"); empty or > 4096-character texts get 400;
- a chat in ``blocked_chats`` answers 403 "bot was blocked by the user";
- sendPhoto takes the photo as a multipart file upload (or ``attach://<part>``), as the Bot API does:
  none gets 400 "there is no photo in the request", a file that is no image 400 IMAGE_PROCESS_FAILED,
  one over 10 MB, or whose width plus height passes 10,000 or whose sides' ratio passes 20, 400
  PHOTO_INVALID_DIMENSIONS; a caption over 1,024 characters 400 "message caption is too long". The
  message keeps the photo (``BotMessage.photo``) and its caption as its text, and has no text to edit;
- setMessageReaction takes one reaction (a bot's limit) from the Bot API's list of emoji (✅ is not
  one: 400 REACTION_INVALID), on a message that exists (else 400 "message to react not found"), and
  replaces the bot's earlier reaction on that message;
- flood control answers as the Bot API server does (``Query::set_retry_after_error``): 429 with
  ``parameters.retry_after`` and the same seconds in a ``Retry-After`` header. ``group_limit``
  counts a group's sends and edits together (the Bot FAQ's "20 messages per minute to the same
  group"; edits share it, say the Bot API's maintainers). Reactions are no messages and count
  toward neither limit: ``reaction_limit`` gives them one of their own (Telegram documents none),
  and ``flood("setMessageReaction")`` refuses the next ones whatever the rate;
- with a webhook set, injected updates are POSTed to it with ``X-Telegram-Bot-Api-Secret-Token``.

Outages: ``FakeTelegram(port=p)`` serves on a port chosen beforehand, so a bot can be started before
the API exists; ``await fake.go_away()`` stops answering (connections are refused, as when Telegram
or a self-hosted server is gone) and ``await fake.come_back()`` serves again on the same port, with
everything it held (pending updates, the chats, message ids) kept. Calls that were in progress when
it went away are finished and answered first, so each request is either handled or refused, never
half-done: the only doubt a test sees is the bot's.

Tests inject user messages with ``await fake.user_says(chat_id, "/poem 秋月")`` (a ``bot_command``
entity is added for Latin command names, as Telegram does) and read what the bot sent from
``fake.chat(chat_id)``, which shows each bot message with its current (edited) text and every text
it had with its time (``versions``), and ``fake.reactions`` (each reaction the bot set, in order).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from PIL import Image

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_PHOTO_BYTES = 10 * 1024 * 1024
REACTION_EMOJI = frozenset({
    "👍", "👎", "❤", "🔥", "🥰", "👏", "😁", "🤔", "🤯", "😱", "🤬", "😢", "🎉", "🤩", "🤮", "💩", "🙏", "👌", "🕊", "🤡",
    "🥱", "🥴", "😍", "🐳", "❤\u200d🔥", "🌚", "🌭", "💯", "🤣", "⚡", "🍌", "🏆", "💔", "🤨", "😐", "🍓", "🍾", "💋",
    "🖕", "😈", "😴", "😭", "🤓", "👻", "👨\u200d💻", "👀", "🎃", "🙈", "😇", "😨", "🤝", "✍", "🤗", "🫡", "🎅", "🎄",
    "☃", "💅", "🤪", "🗿", "🆒", "💘", "🙉", "🦄", "😘", "💊", "🙊", "😎", "👾", "🤷\u200d♂", "🤷", "🤷\u200d♀", "😡",
})
"""The emoji a bot may react with (Bot API ``ReactionTypeEmoji``): a reaction of any other is refused."""
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_JSON_PARAMS = frozenset(
    {"reply_parameters", "commands", "scope", "allowed_updates", "reply_markup", "entities", "link_preview_options",
     "reaction"}
)


class ApiError(Exception):
    """An error answer: Telegram's ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class BotMessage:
    """A message the bot sent, with its current text and the texts it had before edits."""

    chat_id: int
    message_id: int
    text: str
    reply_to: int | None = None
    history: list[str] = field(default_factory=list)
    sent_at: float = field(default_factory=time.monotonic)
    edited_at: float | None = None
    photo: bytes | None = field(default=None, repr=False)  # a sendPhoto's picture; ``text`` is then its caption
    versions: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, text) of each text it had

    def __post_init__(self) -> None:
        self.versions = self.versions or [(self.sent_at, self.text)]


@dataclass(frozen=True)
class Reaction:
    """A reaction the bot set on a message (``emoji`` None: it removed its reaction)."""

    chat_id: int
    message_id: int
    emoji: str | None
    at: float  # time.monotonic() when it was set


@dataclass
class FakeTelegram:
    """Fake Bot API server; ``async with FakeTelegram() as fake`` then use ``fake.base_url``."""

    token: str = "123456:TEST-fake-token"
    username: str = "poetbot"
    first_name: str = "Poet"
    blocked_chats: set[int] = field(default_factory=set)
    group_limit: tuple[int, float] | None = None  # (messages, seconds) per group chat, like Telegram's 20/min
    global_limit: tuple[int, float] | None = None  # (messages, seconds) over all chats, like Telegram's 30/s
    reaction_limit: tuple[int, float] | None = None  # (reactions, seconds) per chat: Telegram documents none
    latency_s: float = 0.0  # added to every Bot API call
    port: int = 0  # 0: any free port; kept across go_away()/come_back()

    def __post_init__(self) -> None:
        self.bot_id = int(self.token.split(":", 1)[0])
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: list[BotMessage] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.reactions: list[Reaction] = []
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}  # (scope type, language) -> commands
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_statuses: list[int] = []
        self._updates: list[dict[str, Any]] = []
        # Telegram's update ids are unique per bot, not per test: start somewhere new each time.
        self._update_ids = itertools.count(random.randrange(10**6, 10**9))
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._user_messages: set[tuple[int, int]] = set()
        self._chat_types: dict[int, str] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._pusher: asyncio.Task[None] | None = None
        self._closing = False
        self.flood_refusals = 0  # 429s answered
        self.outages = 0  # times go_away() was called
        self._floods: dict[str, list[int]] = {}  # method (lower case) -> retry_after of each forced 429
        self._holds: dict[str, _Hold] = {}  # method (lower case) -> calls held at the door
        self._sent_at: dict[int, list[float]] = {}
        self._sent_any: list[float] = []  # every counted send, for global_limit
        self._reacted_at: dict[int, list[float]] = {}

    # --- lifecycle ---------------------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegram:
        await self._serve()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop_serving()

    @property
    def serving(self) -> bool:
        return self._runner is not None

    async def go_away(self) -> None:
        """The Bot API becomes unreachable: new connections are refused. Calls in progress finish
        and get their answers first (pending long polls return at once), so nothing is half-done."""
        self.outages += 1
        await self._stop_serving()

    async def come_back(self) -> None:
        """Serve again on the same port, with every update, chat and message kept."""
        await self._serve()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)  # the Bot API takes uploads up to 50 MB
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=5.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", self.port)  # reuse_address: the same port again at once
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._runner, self._closing = runner, False
        if self.webhook_url and (self._pusher is None or self._pusher.done()):
            self._pusher = asyncio.get_running_loop().create_task(self._push_webhook())

    async def _stop_serving(self) -> None:
        if self._pusher:
            self._pusher.cancel()
            self._pusher = None
        self._closing = True  # answer pending long polls now instead of at their timeout
        async with self._changed:
            self._changed.notify_all()
        runner, self._runner = self._runner, None
        if runner:
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        """What the bot passes to ``ApplicationBuilder().base_url``."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- what tests use ----------------------------------------------------------------------
    async def user_says(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        language_code: str | None = "zh-hans",
        username: str = "alice",
        reply_to: int | None = None,
    ) -> int:
        """A user sends ``text`` (``reply_to``: replying to that bot message); the update goes to
        getUpdates or the webhook. Returns its message id."""
        chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
        self._chat_types[chat_id] = chat_type
        message_id = self._next_message_id(chat_id)
        self._user_messages.add((chat_id, message_id))
        user = {"id": user_id or abs(chat_id), "is_bot": False, "first_name": username, "username": username}
        if language_code:
            user["language_code"] = language_code
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = username
        else:
            chat["title"] = "Poetry club"
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": user, "text": text}
        if reply_to is not None:  # a reply to one of the bot's messages
            replied = next(m for m in self.messages if m.chat_id == chat_id and m.message_id == reply_to)
            message["reply_to_message"] = self._message_json(replied)
        command = _COMMAND_RE.match(text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.group(0))}]
        await self.push_update({"message": message})
        return message_id

    async def push_update(self, update: dict[str, Any]) -> None:
        """Queue any update (given without ``update_id``) for delivery."""
        async with self._changed:
            self._updates.append({"update_id": next(self._update_ids), **update})
            self._changed.notify_all()

    def chat(self, chat_id: int) -> list[BotMessage]:
        """The bot's messages in one chat, oldest first."""
        return [m for m in self.messages if m.chat_id == chat_id]

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        """Wait until ``predicate(fake)`` is true (re-checked on every bot call)."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition not met in {timeout} s; bot messages: {self.messages}")
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    continue

    def flood(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` calls of ``method`` get 429 "retry after ``retry_after``", whatever the
        rate: Telegram's flood control also answers for limits a bot cannot see (shared tokens)."""
        self._floods.setdefault(method.lower(), []).extend([retry_after] * times)

    def hold(self, method: str, after: int = 0) -> None:
        """Let the next ``after`` calls of ``method`` through, then hold the others at the door:
        received (in ``calls``) but neither carried out nor answered, until ``release``. A test
        thus stops the bot mid-burst, or keeps a message "on its way", at an exact point."""
        self._holds[method.lower()] = _Hold(after)

    def held(self, method: str) -> int:
        """Calls of ``method`` waiting at the door now."""
        hold = self._holds.get(method.lower())
        return hold.waiting if hold else 0

    async def release(self, method: str, *, carry_out: bool = True) -> None:
        """Stop holding ``method``. The held calls are carried out and answered, or, with
        ``carry_out=False``, answered 502 without any effect: they never reached Telegram."""
        hold = self._holds.pop(method.lower(), None)
        if hold is not None:
            hold.carry_out = carry_out
            hold.gate.set()

    def reaction(self, chat_id: int, message_id: int) -> str | None:
        """The bot's reaction on a message now (None: none)."""
        last = [r.emoji for r in self.reactions if r.chat_id == chat_id and r.message_id == message_id]
        return last[-1] if last else None

    def method_calls(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # --- HTTP --------------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            params = await _read_params(request)
            self.calls.append((method, params))
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            hold = self._holds.get(method.lower())
            if hold is not None and not hold.let_through():
                hold.waiting += 1
                async with self._changed:
                    self._changed.notify_all()
                try:
                    await hold.gate.wait()
                finally:
                    hold.waiting -= 1
                if not hold.carry_out:
                    raise ApiError(502, "Bad Gateway")
            forced = self._floods.get(method.lower())
            if forced:
                self.flood_refusals += 1
                wait = forced.pop(0)
                raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
            if method.lower() in ("sendmessage", "sendphoto", "editmessagetext"):
                self._flood_check(params)
            elif method.lower() == "setmessagereaction":
                self._reaction_check(params)
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params)
        except ApiError as exc:
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            headers: dict[str, str] = {}
            if exc.parameters:
                body["parameters"] = exc.parameters
                if "retry_after" in exc.parameters:
                    headers["Retry-After"] = str(exc.parameters["retry_after"])
            return web.json_response(body, status=exc.code, headers=headers)
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    def _flood_check(self, params: dict[str, Any]) -> None:
        """Telegram's limits: over the bot-wide rate or a group's, 429 with the seconds until a slot
        frees; a refused message counts toward neither."""
        chat_id = int(params.get("chat_id") or 0)
        now = time.monotonic()
        waits: list[float] = []
        if self.global_limit is not None:
            count, period = self.global_limit
            self._sent_any = [t for t in self._sent_any if now - t < period]
            if len(self._sent_any) >= count:
                waits.append(self._sent_any[0] + period - now)
        grouped = self.group_limit is not None and chat_id < 0
        if grouped:
            count, period = self.group_limit  # type: ignore[misc]
            self._sent_at[chat_id] = [t for t in self._sent_at.get(chat_id, []) if now - t < period]
            if len(self._sent_at[chat_id]) >= count:
                waits.append(self._sent_at[chat_id][0] + period - now)
        if waits:
            self.flood_refusals += 1
            wait = max(1, math.ceil(max(waits)))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        if self.global_limit is not None:
            self._sent_any.append(now)
        if grouped:
            self._sent_at[chat_id].append(now)

    def _reaction_check(self, params: dict[str, Any]) -> None:
        """``reaction_limit``: reactions per chat, counted apart from messages."""
        if self.reaction_limit is None:
            return
        chat_id, (count, period), now = int(params.get("chat_id") or 0), self.reaction_limit, time.monotonic()
        recent = self._reacted_at[chat_id] = [t for t in self._reacted_at.get(chat_id, []) if now - t < period]
        if len(recent) >= count:
            self.flood_refusals += 1
            wait = max(1, math.ceil(recent[0] + period - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        recent.append(now)

    # --- Bot API methods ---------------------------------------------------------------------
    def _me(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._me(), "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or 100), 100)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            if offset:
                # Telegram forgets every update below the offset: they count as confirmed.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing and time.monotonic() < deadline:
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    break
            return self._updates[:limit]

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params, "chat_id")
        text = _text(params)
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        reply_to = self._reply_target(chat_id, params)
        msg = BotMessage(chat_id=chat_id, message_id=self._next_message_id(chat_id), text=text, reply_to=reply_to)
        self.messages.append(msg)
        return self._message_json(msg)

    def _reply_target(self, chat_id: int, params: dict[str, Any]) -> int | None:
        """The message a new one replies to (None: none), by ``reply_parameters`` or the old parameter."""
        reply = params.get("reply_parameters") or {}
        target = reply.get("message_id") or params.get("reply_to_message_id")
        if target is None:
            return None
        if self._exists(chat_id, int(target)):
            return int(target)
        if not (reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply")):
            raise ApiError(400, "Bad Request: message to be replied not found")
        return None

    async def _api_sendphoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params, "chat_id")
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if not isinstance(photo, Upload):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        caption = str(params.get("caption") or "")
        if len(caption) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        try:
            with Image.open(io.BytesIO(photo.data)) as image:
                image.verify()
                width, height = image.size
        except (OSError, SyntaxError, ValueError) as exc:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED") from exc
        if len(photo.data) > MAX_PHOTO_BYTES or width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        reply_to = self._reply_target(chat_id, params)
        msg = BotMessage(chat_id=chat_id, message_id=self._next_message_id(chat_id), text=caption, reply_to=reply_to,
                         photo=photo.data)
        self.messages.append(msg)
        return self._message_json(msg)

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params, "chat_id")
        message_id = _int(params, "message_id")
        text = _text(params)
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if (chat_id, message_id) in self._user_messages:
            raise ApiError(400, "Bad Request: message can't be edited")
        msg = next((m for m in self.messages if m.chat_id == chat_id and m.message_id == message_id), None)
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if msg.photo is not None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        if msg.text == text:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        msg.history.append(msg.text)
        msg.text = text
        msg.edited_at = time.monotonic()
        msg.versions.append((msg.edited_at, text))
        return {**self._message_json(msg), "edit_date": int(time.time())}

    async def _api_setmessagereaction(self, params: dict[str, Any]) -> bool:
        chat_id = _int(params, "chat_id")
        message_id = _int(params, "message_id")
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if not self._exists(chat_id, message_id):
            raise ApiError(400, "Bad Request: message to react not found")
        reaction = params.get("reaction") or []
        if not isinstance(reaction, list):
            raise ApiError(400, "Bad Request: can't parse reaction JSON object")
        if len(reaction) > 1:
            raise ApiError(400, "Bad Request: REACTIONS_TOO_MANY")
        emoji = None
        if reaction:
            kind = reaction[0]
            if not isinstance(kind, dict) or kind.get("type") != "emoji" or _bare(kind.get("emoji")) not in REACTION_EMOJI:
                raise ApiError(400, "Bad Request: REACTION_INVALID")
            emoji = str(kind["emoji"])
        self.reactions.append(Reaction(chat_id, message_id, emoji, time.monotonic()))
        return True

    async def _api_sendchataction(self, params: dict[str, Any]) -> bool:
        chat_id = _int(params, "chat_id")
        if chat_id in self.blocked_chats:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        self.chat_actions.append((chat_id, str(params.get("action"))))
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands:
            raise ApiError(400, "Bad Request: commands must be a non-empty array")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", "")) or not 1 <= len(c.get("description", "")) <= 256:
                raise ApiError(400, f"Bad Request: BOT_COMMAND_INVALID {c!r}")
        scope = (params.get("scope") or {}).get("type", "default")
        self.commands[(scope, params.get("language_code") or "")] = commands
        return True

    async def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        scope = (params.get("scope") or {}).get("type", "default")
        return self.commands.get((scope, params.get("language_code") or ""), [])

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url, self.webhook_secret = "", None
        if _truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return await self._api_deletewebhook(params)
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook_url, self.webhook_secret = url, (str(secret) if secret is not None else None)
        if _truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(self._push_webhook())
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    # --- helpers -----------------------------------------------------------------------------
    async def _push_webhook(self) -> None:
        """Deliver queued updates to the webhook, one at a time, retrying on errors like Telegram."""
        async with aiohttp.ClientSession() as session:
            while self.webhook_url:
                async with self._changed:
                    while not self._updates and self.webhook_url:
                        await self._changed.wait()
                    if not self.webhook_url:
                        return
                    update = self._updates[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} if self.webhook_secret else {}
                try:
                    async with session.post(self.webhook_url, json=update, headers=headers) as resp:
                        self.webhook_statuses.append(resp.status)
                        ok = resp.status < 300
                except aiohttp.ClientError:
                    ok = False
                if ok:
                    async with self._changed:
                        if self._updates and self._updates[0] is update:
                            self._updates.pop(0)
                        self._changed.notify_all()
                else:
                    await asyncio.sleep(0.2)

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _exists(self, chat_id: int, message_id: int) -> bool:
        return (chat_id, message_id) in self._user_messages or any(
            m.chat_id == chat_id and m.message_id == message_id for m in self.messages
        )

    def _message_json(self, msg: BotMessage) -> dict[str, Any]:
        chat = {"id": msg.chat_id, "type": self._chat_types.get(msg.chat_id, "private" if msg.chat_id > 0 else "supergroup")}
        out: dict[str, Any] = {"message_id": msg.message_id, "date": int(time.time()), "chat": chat, "from": self._me(), "text": msg.text}
        if msg.photo is not None:  # a photo's text is its caption; Telegram lists the sizes it keeps
            if out.pop("text"):
                out["caption"] = msg.text
            with Image.open(io.BytesIO(msg.photo)) as image:
                width, height = image.size
            longest = max(width, height)  # scaled copies up to 2560 px on the long side, never enlarged
            sides = [side for side in (90, 320, 800, 1280) if side < longest] + [min(longest, 2560)]
            out["photo"] = [{"file_id": f"photo-{msg.chat_id}-{msg.message_id}-{side}",
                             "file_unique_id": f"p{msg.chat_id}x{msg.message_id}x{side}",
                             "width": round(width * side / longest), "height": round(height * side / longest)}
                            for side in sides]
        if msg.reply_to is not None:
            out["reply_to_message"] = {"message_id": msg.reply_to, "date": int(time.time()), "chat": chat}
        return out


async def until(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll state the fake cannot signal (Redis streams, a bot's health) until ``predicate()`` is
    truthy, and return it; the deadline only turns a hang into a failure, it is not a wait."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := predicate()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        await asyncio.sleep(0.02)
    return value


@dataclass
class _Hold:
    """The door of one held method: ``after`` more calls pass, the rest wait for ``gate``."""

    after: int
    waiting: int = 0
    carry_out: bool = True
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def let_through(self) -> bool:
        if self.after > 0:
            self.after -= 1
            return True
        return False


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart call (sendPhoto's ``photo``)."""

    filename: str
    data: bytes = field(repr=False)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Parameters as Telegram accepts them: JSON body, form body, or query string."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        else:
            form = await request.post()
            for key, value in form.items():
                # An uploaded file (sendPhoto's photo) stays bytes; any other part is text.
                params[key] = value if isinstance(value, str) else (
                    Upload(value.filename, value.file.read()) if value.filename else value.file.read().decode())
    for key in _JSON_PARAMS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except json.JSONDecodeError as exc:
                raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
    return params


def _int(params: dict[str, Any], key: str) -> int:
    try:
        return int(params[key])
    except KeyError:
        raise ApiError(400, f"Bad Request: {key} is empty") from None
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: {key} is invalid") from None


def _text(params: dict[str, Any]) -> str:
    text = str(params.get("text") or "")
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _bare(emoji: Any) -> str:
    """An emoji without variation selectors: the Bot API's list writes ❤‍🔥, clients send ❤️‍🔥."""
    return str(emoji or "").replace("\ufe0f", "")


def _truthy(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)
