"""Durable intake: every Telegram update lands in Redis before Telegram is told it arrived.

PTB's own ``Updater`` confirms a getUpdates offset (or answers a webhook 200) before the update is
handled, and Telegram never sends a confirmed update again: a bot killed mid-burst lost most of
its backlog. Here:

- **Polling.** ``getUpdates(offset)`` confirms everything below ``offset``, so the offset only moves
  past an update once it is stored in the stream ``poetbot:intake:telegram``. While the Bot API is
  unreachable the poll waits on the ``BotApiLink`` and resumes with the same offset.
- **Webhook.** The handler answers 200 only after storing the update; on a Redis error it answers
  500 and Telegram posts it again.
- **Store once.** A Lua script sets ``intake-seen:<update_id>`` (NX) and XADDs, so an update fetched
  or posted twice (a crash between store and confirm) is stored once.
- **Handle at least once.** Handlers read the stream through a consumer group; an entry is acked
  after PTB has run its handlers (errors included: the error handler has answered the user). After
  a crash the same consumer re-reads its pending entries and others claim them when idle. A
  re-handled update is harmless: the request id comes from the message id, so the queue answers
  "duplicate", not a second poem.

The Redis calls are sync redis-py in a thread, on the chat core's own connection.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import secrets
from typing import Any

import redis
from aiohttp import web
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bots.core import keys
from bots.telegram.link import BotApiLink

__all__ = ["SECRET_HEADER", "DurableIntake"]

log = logging.getLogger(__name__)

PLATFORM = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

_STORE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'update_id', ARGV[3], 'update', ARGV[4])
end
return false
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class DurableIntake:
    """Stores updates (polling or webhook) and feeds them to the PTB application from the stream."""

    def __init__(
        self,
        app: Application[Any, Any, Any, Any, Any, Any],
        connection: redis.Redis,
        *,
        consumer: str,
        group: str = "bots",
        claim_idle_ms: int = 30_000,
        block_ms: int = 1000,
        seen_ttl_s: int = 86_400,
        maxlen: int = 100_000,
        link: BotApiLink | None = None,
    ) -> None:
        self.app = app
        self.link = link or BotApiLink(app.bot)
        self.connection = connection
        self.stream = keys.intake_stream(PLATFORM)
        self.consumer = consumer
        self.group = group
        self.claim_idle_ms = claim_idle_ms
        self.block_ms = block_ms
        self.seen_ttl_s = seen_ttl_s
        self.maxlen = maxlen
        self._store = connection.register_script(_STORE)
        self._stopped = asyncio.Event()
        self._handling: set[asyncio.Task[None]] = set()
        self._inflight: set[str] = set()  # entry ids being handled here (never claim our own)
        self._runner: web.AppRunner | None = None

    # --- storing -----------------------------------------------------------------------------
    async def store(self, update_id: int, payload: dict[str, Any]) -> bool:
        """XADD the update unless it was stored before; True when it is new. Raises on Redis errors."""
        entry = await asyncio.to_thread(
            self._store,
            keys=[keys.intake_seen(PLATFORM, str(update_id)), self.stream],
            args=[self.seen_ttl_s, self.maxlen, update_id, json.dumps(payload, ensure_ascii=False)],
        )
        return entry is not None

    async def poll(self, timeout_s: int, allowed_updates: list[str]) -> None:
        """getUpdates until stopped; the offset passes an update only once it is stored.

        The link waits out an unreachable API and 429s; the offset stays where it was, so nothing
        Telegram holds for us is skipped. Redis down or the API refusing (409: another instance
        polls, or a webhook is set) are retried with back-off.
        """
        offset: int | None = None
        backoff = self.link.backoff()
        while not self._stopped.is_set():
            try:
                fetch = functools.partial(self.app.bot.get_updates, offset=offset, timeout=timeout_s,
                                          allowed_updates=allowed_updates, read_timeout=timeout_s + 10)
                updates = await self.link.call(fetch, max_flood_wait_s=float("inf"))
                for update in updates:
                    await self.store(update.update_id, update.to_dict())
                    offset = update.update_id + 1
                backoff.reset()
            except (TelegramError, redis.RedisError) as exc:
                # Redis down: the offset did not move, so Telegram keeps the updates for us.
                wait = backoff.next()
                log.warning("Telegram intake: %s; retrying in %.1f s", str(exc).splitlines()[0], wait)
                await asyncio.sleep(wait)

    async def serve_webhook(self, listen: str, port: int, path: str, secret: str) -> None:
        """An HTTP server for Telegram's POSTs: 200 only once the update is stored."""

        async def receive(request: web.Request) -> web.Response:
            if not secrets.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
                return web.Response(status=403)
            try:
                payload = await request.json()
                update_id = int(payload["update_id"])
            except (ValueError, KeyError, TypeError):
                return web.Response(status=400)
            try:
                await self.store(update_id, payload)
            except redis.RedisError as exc:
                log.warning("Telegram intake: cannot store update %s (%s); Telegram will post it again",
                            update_id, exc)
                return web.Response(status=500)
            return web.Response(status=200)

        app = web.Application()
        app.router.add_post("/" + path.lstrip("/"), receive)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port).start()

    # --- handling ----------------------------------------------------------------------------
    async def process(self) -> None:
        """Feed stored updates to PTB's handlers until stopped; ack each once handled."""
        await asyncio.to_thread(self._ensure_group)
        own: str | None = "0"  # this consumer's own pending entries first: it may be a restart
        backoff = 0.5
        while not self._stopped.is_set():
            try:
                if own is not None:
                    entries = await asyncio.to_thread(self._read, own, None)
                    own = _text(entries[-1][0]) if entries else None
                else:
                    entries = await asyncio.to_thread(self._claim) or await asyncio.to_thread(
                        self._read, ">", self.block_ms)
                backoff = 0.5
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await asyncio.to_thread(self._ensure_group)
                continue
            except redis.RedisError as exc:
                log.warning("Telegram intake: Redis unavailable (%s); retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                own = "0"
                continue
            for raw_id, fields in entries:
                entry_id = _text(raw_id)
                if entry_id in self._inflight:
                    continue
                self._inflight.add(entry_id)
                task = asyncio.create_task(self._handle(entry_id, fields))
                self._handling.add(task)
                task.add_done_callback(self._handling.discard)

    async def _handle(self, entry_id: str, fields: dict[Any, Any]) -> None:
        data = {_text(k): v for k, v in fields.items()}
        try:
            try:
                update = Update.de_json(json.loads(data["update"]), self.app.bot)
            except (KeyError, ValueError) as exc:
                log.error("Telegram intake: dropping unreadable entry %s: %s", entry_id, exc)
            else:
                # The application's update processor: concurrent across chats, in order within one.
                await self.app.update_processor.process_update(update, self.app.process_update(update))
            await asyncio.to_thread(self.connection.xack, self.stream, self.group, entry_id)
        except redis.RedisError as exc:  # not acked: handled again after a restart, as a duplicate
            log.warning("Telegram intake: cannot ack %s (%s)", entry_id, exc)
        finally:
            self._inflight.discard(entry_id)

    def _ensure_group(self) -> None:
        try:
            self.connection.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _read(self, cursor: str, block: int | None) -> list[tuple[Any, dict[Any, Any]]]:
        resp: Any = self.connection.xreadgroup(self.group, self.consumer, {self.stream: cursor}, count=32, block=block)
        if not resp:
            return []
        items = resp.values() if isinstance(resp, dict) else (entries for _name, entries in resp)
        return [(eid, f) for entries in items for eid, f in entries if f]

    def _claim(self) -> list[tuple[Any, dict[Any, Any]]]:
        resp: Any = self.connection.xautoclaim(self.stream, self.group, self.consumer,
                                               min_idle_time=self.claim_idle_ms, start_id="0-0", count=32)
        return [(eid, f) for eid, f in resp[1] if f]

    # --- lifecycle ---------------------------------------------------------------------------
    async def stop(self, timeout_s: float = 30.0) -> None:
        """Stop taking updates, let the ones being handled finish (and be acked) for up to
        ``timeout_s``; the rest are cancelled unacked, so they are handled again after a restart."""
        self._stopped.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._handling:
            _done, late = await asyncio.wait(set(self._handling), timeout=timeout_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
