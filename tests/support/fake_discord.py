"""A local fake of Discord's REST API and gateway that a real discord.py client can talk to.

It speaks the real wire protocol (HTTP JSON under ``/api/v10`` and a JSON websocket gateway), records
every REST call for assertions, and lets a test inject ``MESSAGE_CREATE`` / ``INTERACTION_CREATE``
dispatches as if a user had typed them. Discord's rules that matter to a bot are enforced, so a
bot that breaks them fails here too:

- every REST call except webhooks needs ``Authorization: Bot <token>`` (else 401);
- an interaction must be answered or deferred within 3 s of delivery, and only once. The 3 s are
  the test's to spend, not the machine's: an interaction injected with ``late=True`` is past them
  (its callback gets 404 "Unknown interaction"), any other is within them however loaded the
  machine is, so no test depends on the machine's speed (that the bot defers before it does any
  work is checked by order, not by a clock);
- follow-ups (interaction webhooks) stop working 15 min after the interaction was created (the time
  in its snowflake id), like Discord's interaction token;
- asking for the privileged message-content intent when the application does not have it closes
  the gateway with 4014;
- with ``rate_limits`` set, each bucket takes ``limit`` calls per ``period_s``: ``"channel"`` (posts,
  per channel), ``"edit"`` (message edits, per channel), ``"reaction"`` (adding and removing
  reactions, per channel: Discord's is one per 0.25 s), ``"webhook"`` (follow-ups, per interaction
  token). As on Discord (developer docs, "Rate Limits"), every answer carries the ``X-RateLimit-*``
  headers, and a call over the limit gets 429 with ``retry_after`` in the body (seconds, a float),
  ``Retry-After`` and ``X-RateLimit-Scope`` headers, and the ``Via`` header that tells discord.py it
  is Discord's limit, not a Cloudflare ban; ``refuse_webhooks`` answers the next N follow-ups 429
  whatever the bucket says, ``refuse_reactions`` the next N reactions;
- a reaction (``PUT /channels/{c}/messages/{m}/reactions/{emoji}/@me``, 204) needs a message that
  exists in that channel (else 404 Unknown Message) and a Unicode or ``name:id`` emoji (else 400
  Unknown Emoji); ``reactions`` records each, with its time;
- a channel post may carry files as Discord takes them: multipart/form-data with the message in a
  ``payload_json`` part and each file in a ``files[n]`` part that ``attachments`` in the JSON lists
  by id ``n`` (else 400 Invalid Form Body); at most 10 files and ``attachment_size_limit`` bytes
  (10 MiB, as for a server without boosts) in all (else 413), and content of at most 2,000
  characters (else 400). The message made lists them as ``attachments``, and the call keeps their
  bytes (``RecordedCall.files``);
- a channel post with a ``nonce`` and ``enforce_nonce`` that repeats an earlier one gets the message
  made the first time, and no new message (Discord's idempotency for retried posts).

Outages, as Discord has them: ``go_down()`` stops the whole server (gateway and REST: connections
refused) until ``come_back()`` serves again on the same port; ``rest_down`` drops every REST request
without an answer while the gateway stays; ``lose_answers`` makes the next N channel posts happen
but drops their answers (the bot cannot know the post was made); ``drop_gateway()`` closes the
gateway connections (1001, going away) and the bot must reconnect.

Responses carry ``Content-Type: application/json`` exactly: discord.py reads anything else (such as
aiohttp's ``json_response`` default with ``; charset=utf-8``) as text.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
MESSAGE_CONTENT_INTENT = 1 << 15
INTERACTION_DEADLINE_S = 3.0
TOKEN_LIFETIME_S = 15 * 60.0
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

_counter = itertools.count(1)


def snowflake(at: float | None = None) -> str:
    """A Discord snowflake id whose embedded timestamp is ``at`` (epoch seconds, default now)."""
    ms = int((time.time() if at is None else at) * 1000)
    return str(((ms - DISCORD_EPOCH_MS) << 22) | (next(_counter) & 0x3FFFFF))


def snowflake_time(value: str | int) -> float:
    """Epoch seconds embedded in a snowflake id."""
    return ((int(value) >> 22) + DISCORD_EPOCH_MS) / 1000.0


async def eventually(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.01) -> Any:
    """Wait until ``predicate()`` is truthy, for state the fake does not see (a client's readiness,
    a queue's stream): checked every ``interval``; ``timeout`` only bounds a test that would hang."""

    async def _wait() -> Any:
        while not (result := predicate()):
            await asyncio.sleep(interval)
        return result

    return await asyncio.wait_for(_wait(), timeout)


async def settle_discord_tasks(timeout: float = 10.0) -> None:
    """Wait for the event tasks discord.py started (handlers it dispatched while the client closed),
    so none is left pending, and none runs on, when the test's loop closes."""
    current = asyncio.current_task()
    pending = {task for task in asyncio.all_tasks() if task is not current and not task.done()
               and (task.get_name().startswith("discord.py: ") or task.get_name() == "CommandTree-invoker")}
    if pending:
        await asyncio.wait(pending, timeout=timeout)


async def _read_multipart(request: web.Request) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
    """(the JSON of ``payload_json``, the ``files[n]`` parts in order of n) of a multipart call."""
    body: dict[str, Any] = {}
    files: dict[int, tuple[str, bytes]] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "payload_json":
            body = json.loads(await part.text())
        elif part.name and (m := re.fullmatch(r"files\[(\d+)\]", part.name)):
            files[int(m[1])] = (part.filename or "", bytes(await part.read()))
    return body, [files[i] for i in sorted(files)]


def user_payload(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": user_id, "username": name, "global_name": name, "discriminator": "0", "avatar": None, "bot": bot}


@dataclass
class RecordedCall:
    """One REST request as the bot sent it."""

    method: str
    path: str  # relative to /api/v10, e.g. "/channels/1/messages"
    query: dict[str, str]
    body: Any  # parsed JSON body, or None
    status: int = 0  # what the fake answered (0: the connection was dropped without an answer)
    duplicate: bool = False  # a post repeating an earlier nonce: answered with the earlier message
    at: float = field(default_factory=time.monotonic)  # when it arrived
    made: str | None = None  # the id of the message a post made
    files: list[tuple[str, bytes]] = field(default_factory=list, repr=False)  # (file name, bytes) of each upload


@dataclass(frozen=True)
class FakeReaction:
    """A reaction the bot added to a message."""

    channel_id: str
    message_id: str
    emoji: str
    at: float  # time.monotonic() when it was added


@dataclass
class _Interaction:
    id: str
    token: str
    late: bool  # delivered more than INTERACTION_DEADLINE_S ago: too late to answer
    created_at: float  # epoch seconds from the snowflake (the 15 min token rule counts from here)
    channel_id: str
    acknowledged: bool = False


@dataclass
class FakeDiscord:
    """Fake Discord server; use ``async with FakeDiscord() as fake`` and point the bot at its URLs."""

    token: str = "fake-bot-token"
    allow_message_content: bool = True
    bot_name: str = "PoetBot"
    guild_locale: str = "zh-CN"
    application_id: str = field(default_factory=snowflake)
    bot_id: str = ""
    guild_id: str = field(default_factory=snowflake)
    channel_id: str = field(default_factory=snowflake)
    other_channel_id: str = field(default_factory=snowflake)
    user_id: str = field(default_factory=snowflake)
    calls: list[RecordedCall] = field(default_factory=list)
    commands: list[dict[str, Any]] = field(default_factory=list)  # last synced global commands
    identify: dict[str, Any] | None = None  # last IDENTIFY payload
    heartbeats: int = 0
    rate_limits: dict[str, tuple[int, float]] = field(default_factory=dict)  # "channel"/"webhook": (limit, period_s)
    refuse_webhooks: int = 0
    refusals: int = 0  # 429s answered
    edits: list[tuple[str, str]] = field(default_factory=list)  # (message id, new content) of PATCHed messages
    identifies: int = 0  # IDENTIFYs accepted (a reconnect that cannot resume identifies again)
    rest_down: bool = False  # drop every REST request without an answer
    lose_answers: int = 0  # make the next N channel posts, then drop their answers
    refuse_reactions: int = 0  # answer the next N reactions 429, whatever the bucket says
    latency_s: float = 0.0  # added to every REST call, as the way to Discord and back takes
    reactions: list[FakeReaction] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.bot_id = self.bot_id or self.application_id
        self._interactions: dict[str, _Interaction] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._seq = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._buckets: dict[str, tuple[int, float]] = {}  # bucket -> (calls used, monotonic reset time)
        self._nonces: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, nonce) -> the message made
        self._messages: set[tuple[str, str]] = set()  # (channel, message id) of every message there is
        self.posted: dict[str, dict[str, Any]] = {}  # id -> each message the bot posted to a channel, as made
        self._site: web.TCPSite | None = None

    # ----------------------------------------------------------------- lifecycle
    async def __aenter__(self) -> FakeDiscord:
        await self._serve()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.go_down()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=2 * ATTACHMENT_SIZE_LIMIT)  # uploads reach the size rule below
        app.router.add_get("/gw", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port)  # 0 the first time: a free port
        await self._site.start()
        self.port = self._site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    @property
    def serving(self) -> bool:
        return self._runner is not None

    async def go_down(self) -> None:
        """Stop answering at all: gateway connections drop (1001, going away), new ones are refused."""
        if self._runner is None:
            return
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"going away")
        runner, self._runner, self._site = self._runner, None, None
        await runner.cleanup()
        await self._notify()

    async def come_back(self) -> None:
        """Serve again, on the same port, with everything recorded so far."""
        if self._runner is None:
            await self._serve()
        await self._notify()

    async def drop_gateway(self) -> None:
        """Close every gateway connection, as a Discord node going away does (the bot reconnects)."""
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"going away")

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gw"

    # ----------------------------------------------------------------- waiting and queries
    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every recorded event); return it."""

        async def _wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result

        return await asyncio.wait_for(_wait(), timeout)

    def find(self, method: str, pattern: str) -> list[RecordedCall]:
        """Recorded calls with this method whose path fully matches the regex ``pattern``."""
        rx = re.compile(pattern)
        return [c for c in self.calls if c.method == method and rx.fullmatch(c.path)]

    def channel_messages(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        """Bodies of messages the bot posted to a channel (default: the main test channel)."""
        cid = channel_id or self.channel_id
        return [c.body for c in self.find("POST", f"/channels/{cid}/messages") if c.status == 200 and not c.duplicate]

    def followups(self, token: str) -> list[dict[str, Any]]:
        """Bodies of accepted follow-up messages sent with an interaction's token."""
        path = f"/webhooks/{self.application_id}/{re.escape(token)}"
        return [c.body for c in self.find("POST", path) if c.status == 200]

    def callbacks(self, interaction_id: str) -> list[RecordedCall]:
        return self.find("POST", f"/interactions/{interaction_id}/.+/callback")

    def bot_messages(self) -> list[dict[str, Any]]:
        """Every message the bot got accepted anywhere: channel posts and follow-ups."""
        out = []
        for c in self.calls:
            if c.method == "POST" and c.status == 200 and not c.duplicate and re.fullmatch(r"/(channels/\d+/messages|webhooks/\d+/[^/]+)", c.path):
                out.append(c.body)
        return out

    # ----------------------------------------------------------------- injecting events
    @property
    def connected(self) -> bool:
        return self.identify is not None and bool(self._sockets)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway dispatch (op 0) to every connected client."""
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        for ws in list(self._sockets):
            await ws.send_str(frame)

    async def send_message(
        self, content: str, *, channel_id: str | None = None, user_id: str | None = None,
        bot: bool = False, mention_bot: bool = False, guild: bool = True, reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Inject a user's message (MESSAGE_CREATE); returns the payload. ``reply_to``: the message it
        replies to (one of ``posted``), which Discord sends along whole as ``referenced_message``."""
        uid = user_id or self.user_id
        data: dict[str, Any] = {
            **self._message(channel_id or self.channel_id, content, user_payload(uid, "poetfan", bot=bot)),
            "mentions": [user_payload(self.bot_id, self.bot_name, bot=True)] if mention_bot else [],
        }
        if reply_to is not None:
            data.update(type=19, referenced_message=reply_to, message_reference={
                "type": 0, "message_id": reply_to["id"], "channel_id": reply_to["channel_id"], "guild_id": self.guild_id})
        if guild:
            data["guild_id"] = self.guild_id
            data["member"] = {"roles": [], "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0}
        self._messages.add((data["channel_id"], data["id"]))
        await self.dispatch("MESSAGE_CREATE", data)
        return data

    async def slash(
        self, name: str, options: dict[str, Any] | None = None, *, locale: str = "zh-CN",
        created_at: float | None = None, channel_id: str | None = None, user_id: str | None = None,
        late: bool = False,
    ) -> dict[str, Any]:
        """Inject a slash-command interaction (INTERACTION_CREATE); returns the payload.

        ``created_at`` back-dates the interaction id, which is how a test ages its token; ``late``:
        the bot's first answer comes after Discord's 3 s (refused with 404 Unknown interaction).
        """
        types = {str: 3, int: 4, bool: 5, float: 10}
        cmd = next((c for c in self.commands if c["name"] == name), None)
        data = {
            "id": cmd["id"] if cmd else snowflake(),
            "name": name,
            "type": 1,
            "options": [{"name": k, "type": types[type(v)], "value": v} for k, v in (options or {}).items()],
        }
        iid = snowflake(created_at)
        token = f"itok-{iid}"
        cid = channel_id or self.channel_id
        self._interactions[iid] = _Interaction(iid, token, late, snowflake_time(iid), cid)
        uid = user_id or self.user_id
        payload = {
            "id": iid,
            "application_id": self.application_id,
            "type": 2,
            "data": data,
            "guild_id": self.guild_id,
            "channel_id": cid,
            "channel": {"id": cid, "type": 0, "guild_id": self.guild_id, "name": "poems"},
            "member": {
                "user": user_payload(uid, "poetfan"), "roles": [], "permissions": "2248473465835073",
                "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0,
            },
            "token": token,
            "version": 1,
            "locale": locale,
            "guild_locale": self.guild_locale,
            "app_permissions": "2248473465835073",
            "entitlements": [],
            "authorizing_integration_owners": {"0": self.guild_id},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    # ----------------------------------------------------------------- payload builders
    def _message(self, channel_id: str, content: str, author: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "id": snowflake(), "channel_id": channel_id, "author": author, "content": content,
            "timestamp": "2024-01-01T00:00:00+00:00", "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": [], "pinned": False, "type": 0, "flags": 0, **extra,
        }

    def _guild(self) -> dict[str, Any]:
        def channel(cid: str, name: str, position: int) -> dict[str, Any]:
            return {"id": cid, "type": 0, "name": name, "position": position, "guild_id": self.guild_id,
                    "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None}

        return {
            "id": self.guild_id, "name": "Poetry Club", "icon": None, "owner_id": self.user_id,
            "unavailable": False, "member_count": 2, "large": False, "preferred_locale": self.guild_locale,
            "roles": [{"id": self.guild_id, "name": "@everyone", "permissions": "2248473465835073",
                       "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False}],
            "channels": [channel(self.channel_id, "poems", 0), channel(self.other_channel_id, "general", 1)],
            "members": [{"user": user_payload(self.bot_id, self.bot_name, bot=True), "roles": [],
                         "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0}],
            "threads": [], "emojis": [], "stickers": [], "features": [], "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "verification_level": 0, "default_message_notifications": 0, "explicit_content_filter": 0,
            "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0, "system_channel_flags": 0,
            "joined_at": "2024-01-01T00:00:00+00:00",
        }

    # ----------------------------------------------------------------- gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op = frame.get("op")
                if op == 1:
                    self.heartbeats += 1
                    await ws.send_str(json.dumps({"op": 11}))
                elif op == 2:
                    await self._on_identify(ws, frame["d"])
                elif op == 6:  # RESUME: this fake keeps no sessions, so make the client identify afresh
                    await ws.send_str(json.dumps({"op": 9, "d": False}))
                await self._notify()
        finally:
            if ws in self._sockets:
                self._sockets.remove(ws)
        return ws

    async def _on_identify(self, ws: web.WebSocketResponse, data: dict[str, Any]) -> None:
        if data.get("token") != self.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return
        if int(data.get("intents", 0)) & MESSAGE_CONTENT_INTENT and not self.allow_message_content:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identify = data
        self.identifies += 1
        self._sockets.append(ws)
        await self.dispatch("READY", {
            "v": 10, "user": user_payload(self.bot_id, self.bot_name, bot=True),
            "guilds": [{"id": self.guild_id, "unavailable": True}], "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url, "shard": [0, 1],
            "application": {"id": self.application_id, "flags": 0},
        })
        await self.dispatch("GUILD_CREATE", self._guild())

    # ----------------------------------------------------------------- REST
    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["path"]
        body: Any = None
        files: list[tuple[str, bytes]] = []
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                body, files = await _read_multipart(request)
            elif raw := await request.read():
                body = json.loads(raw)
        call = RecordedCall(request.method, path, dict(request.query), body, files=files)
        self.calls.append(call)
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
            call.at = time.monotonic()
        if self.rest_down:
            return await self._drop(request)
        headers, limited = self._rate_limit(request.method, path)
        status, payload = limited or self._route(request, call)
        call.status = status
        if status == 200 and self.lose_answers > 0 and re.fullmatch(r"/channels/\d+/messages", path) and not call.duplicate:
            self.lose_answers -= 1
            return await self._drop(request)
        await self._notify()
        if status == 204:
            return web.Response(status=204, headers=headers)
        # Built by hand: json_response would add "; charset=utf-8", which discord.py reads as text.
        return web.Response(status=status, body=json.dumps(payload).encode(),
                            headers={**headers, "Content-Type": "application/json"})

    async def _drop(self, request: web.Request) -> web.Response:
        """Close the connection without an answer (the client sees the server disconnect)."""
        await self._notify()
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=204)

    def _rate_limit(self, method: str, path: str) -> tuple[dict[str, str], tuple[int, Any] | None]:
        """(rate-limit headers, a 429 answer or None) for one call; each bucket refills whole per window."""
        kind, key = None, ""
        if method == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages", path)):
            kind, key = "channel", m[1]
        elif method == "PATCH" and (m := re.fullmatch(r"/channels/(\d+)/messages/\d+", path)):
            kind, key = "edit", m[1]
        elif method in ("PUT", "DELETE") and (m := re.fullmatch(r"/channels/(\d+)/messages/\d+/reactions/.+", path)):
            kind, key = "reaction", m[1]
        elif m := re.fullmatch(r"/webhooks/\d+/([^/]+)(/messages/.+)?", path):
            kind, key = "webhook", m[1]
        forced = ((kind == "webhook" and method == "POST" and self.refuse_webhooks > 0)
                  or (kind == "reaction" and self.refuse_reactions > 0))
        if forced:
            if kind == "webhook":
                self.refuse_webhooks -= 1
            else:
                self.refuse_reactions -= 1
            self.refusals += 1
            return {"Via": "1.1 google", "Retry-After": "1", "X-RateLimit-Scope": "user"}, (
                429, {"message": "You are being rate limited.", "retry_after": 0.05, "global": False})
        if kind is None or kind not in self.rate_limits:
            return {}, None
        limit, period = self.rate_limits[kind]
        now = time.monotonic()
        used, reset_at = self._buckets.get(f"{kind}:{key}", (0, 0.0))
        if now >= reset_at:  # Discord's buckets refill whole when their window ends
            used, reset_at = 0, now + period
        reset_after = math.ceil((reset_at - now) * 1000) / 1000  # rounded up: a client that waits it out is never early
        headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Bucket": f"{kind}-{key}"[:40],
                   "X-RateLimit-Reset-After": f"{reset_after:.3f}", "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}"}
        if used >= limit:
            self.refusals += 1
            headers |= {"X-RateLimit-Remaining": "0", "X-RateLimit-Scope": "user", "Via": "1.1 google",
                        "Retry-After": str(max(1, round(reset_after)))}
            return headers, (429, {"message": "You are being rate limited.", "retry_after": round(reset_after, 3),
                                   "global": False})
        self._buckets[f"{kind}:{key}"] = (used + 1, reset_at)
        headers["X-RateLimit-Remaining"] = str(limit - used - 1)
        return headers, None

    def _route(self, request: web.Request, call: RecordedCall) -> tuple[int, Any]:
        path, method, body = call.path, call.method, call.body
        if not path.startswith(("/webhooks/", "/interactions/")) and request.headers.get("Authorization") != f"Bot {self.token}":
            return 401, {"message": "401: Unauthorized", "code": 0}
        if method == "GET" and path == "/users/@me":
            return 200, user_payload(self.bot_id, self.bot_name, bot=True)
        if method == "GET" and path == "/oauth2/applications/@me":
            return 200, {
                "id": self.application_id, "name": self.bot_name, "icon": None, "description": "",
                "rpc_origins": [], "bot_public": True, "bot_require_code_grant": False, "verify_key": "00",
                "flags": 0, "owner": user_payload(self.user_id, "owner"), "team": None, "summary": "",
                "interactions_endpoint_url": None, "tags": [],
            }
        if m := re.fullmatch(r"/applications/(\d+)/commands", path):
            if m[1] != self.application_id:
                return 404, {"message": "Unknown Application", "code": 10002}
            if method == "PUT":
                self.commands = [{**c, "id": snowflake(), "application_id": self.application_id, "version": snowflake()}
                                 for c in body]
                return 200, self.commands
            if method == "GET":
                return 200, self.commands
        if (m := re.fullmatch(r"/channels/(\d+)/messages", path)) and method == "POST":
            if m[1] not in (self.channel_id, self.other_channel_id):
                return 404, {"message": "Unknown Channel", "code": 10003}
            nonce = (m[1], str(body["nonce"])) if body.get("nonce") and body.get("enforce_nonce") else None
            if nonce is not None and nonce in self._nonces:
                call.duplicate = True
                return 200, self._nonces[nonce]
            refused = self._refuse_post(body, call.files)
            if refused is not None:
                return refused
            ref = {"message_reference": body["message_reference"]} if body.get("message_reference") else {}
            made = self._message(m[1], body.get("content", ""), user_payload(self.bot_id, self.bot_name, bot=True),
                                 attachments=self._attachments(body, call.files), **ref)
            if nonce is not None:
                self._nonces[nonce] = made
            self._messages.add((m[1], made["id"]))
            call.made = made["id"]
            self.posted[made["id"]] = made
            return 200, made
        if (m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)) and method == "PATCH":
            self.edits.append((m[2], (body or {}).get("content", "")))
            return 200, {**self._message(m[1], (body or {}).get("content", ""),
                                         user_payload(self.bot_id, self.bot_name, bot=True)), "id": m[2]}
        if (m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/reactions/([^/]+)/@me", path)) and method == "PUT":
            if (m[1], m[2]) not in self._messages:
                return 404, {"message": "Unknown Message", "code": 10008}
            emoji = unquote(m[3])
            if emoji.isascii() and not re.fullmatch(r"\w+:\d+", emoji):
                return 400, {"message": "Unknown Emoji", "code": 10014}
            self.reactions.append(FakeReaction(m[1], m[2], emoji, time.monotonic()))
            return 204, None
        if (m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)) and method == "POST":
            return self._callback(m[1], m[2], body)
        if m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/messages/@original)?", path):
            return self._webhook(method, m[1], m[2], bool(m[3]), body)
        return 404, {"message": f"fake Discord has no route {method} {path}", "code": 0}

    def _refuse_post(self, body: dict[str, Any], files: list[tuple[str, bytes]]) -> tuple[int, Any] | None:
        """Discord's answer to a post it will not make (content too long, files unlisted or too big)."""
        if len(body.get("content") or "") > 2000:
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}
        listed = {str(a.get("id")) for a in body.get("attachments") or []}
        if files and listed != {str(i) for i in range(len(files))}:
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": {"attachments": {"_errors": [
                {"code": "ATTACHMENT_NOT_FOUND", "message": "Each file needs its entry in attachments."}]}}}
        if len(files) > 10:
            return 400, {"message": "Invalid Form Body", "code": 50035, "errors": {"files": {"_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 10 or fewer in length."}]}}}
        if sum(len(data) for _, data in files) > ATTACHMENT_SIZE_LIMIT:
            return 413, {"message": "Request entity too large", "code": 40005}
        return None

    def _attachments(self, body: dict[str, Any], files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        """The made message's ``attachments``, as Discord lists uploaded files."""
        out = []
        for (name, data), entry in zip(files, body.get("attachments") or [], strict=False):
            aid = snowflake()
            url = f"http://127.0.0.1:{self.port}/attachments/{aid}/{entry.get('filename') or name}"
            kind = "image/png" if data.startswith(b"\x89PNG") else "application/octet-stream"
            out.append({"id": aid, "filename": entry.get("filename") or name, "size": len(data), "url": url,
                        "proxy_url": url, "content_type": kind})
        return out

    def _callback(self, iid: str, token: str, body: Any) -> tuple[int, Any]:
        it = self._interactions.get(iid)
        if it is None or it.token != token or it.late:
            return 404, {"message": "Unknown interaction", "code": 10062}
        if it.acknowledged:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        it.acknowledged = True
        kind = int(body["type"])
        return 200, {
            "interaction": {"id": iid, "type": 2, "response_message_loading": kind == 5,
                            "response_message_ephemeral": bool(body.get("data", {}).get("flags", 0) & 64)},
            "resource": {"type": kind},
        }

    def _webhook(self, method: str, app_id: str, token: str, original: bool, body: Any) -> tuple[int, Any]:
        it = next((i for i in self._interactions.values() if i.token == token), None)
        if app_id != self.application_id or it is None:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        if time.time() - it.created_at > TOKEN_LIFETIME_S:
            return 401, {"message": "Invalid Webhook Token", "code": 50027}
        if not it.acknowledged:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        if method == "DELETE" and original:
            return 204, None
        if method in ("POST", "PATCH"):
            return 200, self._message(it.channel_id, (body or {}).get("content", ""),
                                      user_payload(self.bot_id, self.bot_name, bot=True), webhook_id=app_id)
        return 405, {"message": "405: Method Not Allowed", "code": 0}

    def expire(self, token: str) -> None:
        """Make an interaction token stale now, as if 15 minutes had passed."""
        for it in self._interactions.values():
            if it.token == token:
                it.created_at -= TOKEN_LIFETIME_S + 1
