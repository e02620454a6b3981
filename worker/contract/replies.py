"""Reply streams: workers publish, bots consume with a consumer group, a user sees one reply.

Delivery guarantees, end to end:

- **Publish once.** ``ReplyPublisher.publish`` is a Lua script: ``SET poetcore:published:<id> NX``
  then ``XADD``. A job that runs twice (crash recovery, retry after the reply was already out)
  or a cancel racing a worker publishes at most one entry per request id; the first one wins.
- **Read at least once.** Each bot process reads ``poetcore:replies:<platform>`` through the
  consumer group (default ``bots``). Entries stay pending until acked, so replies published
  while a bot was down wait for it, and entries a crashed consumer held are taken over with
  ``XAUTOCLAIM`` once idle for ``claim_idle_ms``. On start a consumer first re-reads its own
  pending entries (same consumer name = a restart).
- **Send once.** Before handing an entry out, the consumer takes a lease
  (``SET poetcore:delivery:<platform>:<id> sending:... NX PX``, `keys.send_state`); ``ack`` turns it into ``sent``
  and then XACKs. Entries whose request is already ``sent`` are acked and skipped. The only
  window for a duplicate message is a crash between the chat API call and ``ack``.
- A send that keeps failing (chat deleted, bot blocked) is dropped after ``max_attempts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio

from worker.contract import keys
from worker.contract.connection import connect_async
from worker.contract.logs import request_context
from worker.contract.metrics import (
    REDIS_RETRIES,
    REPLIES_DUPLICATE,
    REPLIES_RELEASED,
    observe_reply_delivered,
)
from worker.contract.protocol import PoemReply
from worker.contract.settings import QueueSettings

log = logging.getLogger(__name__)

_PUBLISH = """
if redis.call('SET', KEYS[1], 'publishing', 'NX', 'EX', ARGV[1]) then
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'request_id', ARGV[3], 'reply', ARGV[4])
  redis.call('SET', KEYS[1], id, 'EX', ARGV[1])
  return id
end
return false
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class ReplyPublisher:
    """Worker side: publish one reply per request id to its platform's stream."""

    def __init__(self, connection: redis.Redis, *, maxlen: int = 10000, dedupe_ttl_s: int = 86400) -> None:
        self.connection = connection
        self.maxlen = maxlen
        self.dedupe_ttl_s = dedupe_ttl_s
        self._script = connection.register_script(_PUBLISH)

    @classmethod
    def from_settings(cls, connection: redis.Redis, settings: QueueSettings) -> ReplyPublisher:
        return cls(connection, maxlen=settings.reply_stream_maxlen, dedupe_ttl_s=settings.request_ttl_s)

    def publish(self, reply: PoemReply) -> str | None:
        """XADD the reply; returns the entry id, or None when this request was answered already."""
        entry = self._script(
            keys=[keys.published(reply.request_id), keys.reply_stream(reply.platform)],
            args=[self.dedupe_ttl_s, self.maxlen, reply.request_id, reply.to_json()],
        )
        if entry is None:
            log.info("replies: request %s already answered, dropping %s reply", reply.request_id, reply.status,
                     extra={"request_id": reply.request_id})
            return None
        log.info("replies: published %s reply for %s to %s", reply.status, reply.request_id,
                 keys.reply_stream(reply.platform), extra={"request_id": reply.request_id})
        return _text(entry)

    def is_answered(self, request_id: str) -> bool:
        return bool(self.connection.exists(keys.published(request_id)))


@dataclass(frozen=True)
class ClaimedReply:
    """One reply handed to a bot under a send lease: send it, then ``await consumer.ack(claimed)``."""

    entry_id: str
    reply: PoemReply
    attempt: int
    lease: str


class ReplyConsumer:
    """Bot side: asyncio reader of ``poetcore:replies:<platform>`` through a consumer group.

    Either iterate and ack explicitly::

        async for claimed in consumer.replies():
            await send(claimed.reply)
            await consumer.ack(claimed)          # or consumer.release(claimed) on failure

    or let ``run`` ack after the handler returns (and release when it raises)::

        await consumer.run(send)
    """

    def __init__(
        self,
        client: redis.asyncio.Redis,
        platform: str,
        *,
        group: str = "bots",
        consumer: str | None = None,
        claim_idle_ms: int = 30000,
        block_ms: int = 2000,
        batch: int = 16,
        max_attempts: int = 5,
        dedupe_ttl_s: int = 86400,
        lease_ms: int | None = None,
    ) -> None:
        self.client = client
        self.platform = platform
        self.stream = keys.reply_stream(platform)
        self.group = group
        self.consumer = consumer or f"{socket.gethostname()}-{platform}"
        self.claim_idle_ms = claim_idle_ms
        self.block_ms = block_ms
        self.batch = batch
        self.max_attempts = max_attempts
        self.dedupe_ttl_s = dedupe_ttl_s
        # The lease covers one send; it expires together with the entry becoming claimable, so a
        # consumer that died mid-send is taken over after claim_idle_ms (a send slower than that
        # could be duplicated).
        self.lease_ms = lease_ms or claim_idle_ms
        self._stopped = asyncio.Event()
        self._inflight: set[str] = set()  # entries handed out by this process and not yet acked/released
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_settings(
        cls, settings: QueueSettings, platform: str, url: str, *, consumer: str | None = None
    ) -> ReplyConsumer:
        client = connect_async(url, block_s=settings.reply_block_ms / 1000)
        return cls(
            client,
            platform,
            group=settings.reply_group,
            consumer=consumer or settings.consumer_for(platform),
            claim_idle_ms=settings.reply_claim_idle_ms,
            block_ms=settings.reply_block_ms,
            max_attempts=settings.reply_max_attempts,
            dedupe_ttl_s=settings.request_ttl_s,
        )

    async def ensure_group(self) -> None:
        """Create the group at the stream's start, so replies published before any bot ran count."""
        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def stop(self) -> None:
        """Make ``replies()``/``run()`` return after the current read (within ``block_ms``)."""
        self._stopped.set()

    async def aclose(self) -> None:
        self.stop()
        await self.client.aclose()

    async def replies(self) -> AsyncIterator[ClaimedReply]:
        await self.ensure_group()
        own_cursor: str | None = "0"  # own pending entries first: this consumer may be a restart
        claim_cursor = "0-0"
        next_claim = 0.0
        backoff = 0.1
        failing = False  # in a Redis outage: one WARNING for all of it, every retry counted
        while not self._stopped.is_set():
            try:
                entries: list[tuple[Any, dict[Any, Any]]] = []
                if own_cursor is not None:
                    entries = await self._read(own_cursor, block=None)
                    own_cursor = _text(entries[-1][0]) if entries else None
                elif time.monotonic() >= next_claim:
                    claim_cursor, entries = await self._claim(claim_cursor)
                    if claim_cursor == "0-0":
                        next_claim = time.monotonic() + max(self.claim_idle_ms / 2000, 0.05)
                if not entries:
                    entries = await self._read(">", block=self.block_ms)
                backoff = 0.1
                if failing:
                    log.info("replies: Redis is back; reading %s again", self.stream)
                    failing = False
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                log.warning("replies: group %s on %s vanished (Redis restarted empty?); recreating",
                            self.group, self.stream)
                await self.ensure_group()
                continue
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                REDIS_RETRIES.labels(part="replies").inc()
                if not failing:
                    log.warning("replies: Redis unavailable (%s); retrying with back-off up to 5 s", exc)
                failing = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                own_cursor = "0"  # after a Redis restart our pending list is whatever the AOF kept
                continue
            for entry_id, fields in entries:
                claimed = await self._admit(_text(entry_id), fields)
                if claimed is not None:
                    yield claimed

    async def _read(self, cursor: str, block: int | None) -> list[tuple[Any, dict[Any, Any]]]:
        resp: Any = await self.client.xreadgroup(
            self.group, self.consumer, {self.stream: cursor}, count=self.batch, block=block
        )
        if not resp:
            return []
        # RESP2 answers [[stream, entries]], RESP3 answers {stream: [entries]}
        items = resp.values() if isinstance(resp, dict) else (entries for _name, entries in resp)
        out: list[tuple[Any, dict[Any, Any]]] = []
        for entries in items:
            out.extend((eid, fields) for eid, fields in entries if fields)  # fields None: trimmed entry
        return out

    async def _claim(self, cursor: str) -> tuple[str, list[tuple[Any, dict[Any, Any]]]]:
        resp: Any = await self.client.xautoclaim(
            self.stream, self.group, self.consumer, min_idle_time=self.claim_idle_ms, start_id=cursor,
            count=self.batch,
        )
        next_cursor, entries = _text(resp[0]), resp[1]
        claimed = [(eid, fields) for eid, fields in entries if fields]
        if claimed:
            log.info("replies: claimed %d idle pending entries on %s", len(claimed), self.stream)
        return next_cursor, claimed

    async def _admit(self, entry_id: str, fields: dict[Any, Any]) -> ClaimedReply | None:
        data = {_text(k): v for k, v in fields.items()}
        request_id = _text(data.get("request_id", ""))
        try:
            reply = PoemReply.from_json(data["reply"])
        except (KeyError, ValueError) as exc:
            log.error("replies: dropping unreadable entry %s on %s: %s", entry_id, self.stream, exc)
            await self.client.xack(self.stream, self.group, entry_id)
            return None
        state_key = keys.send_state(self.platform, reply.request_id)
        lease = f"sending:{self.consumer}:{entry_id}"
        if entry_id in self._inflight:
            return None  # re-claimed while our handler is still sending it
        taken = await self.client.set(state_key, lease, nx=True, px=self.lease_ms)
        if not taken and _text(await self.client.get(state_key) or b"") == lease:
            # Our own lease from a previous run of this consumer that died mid-send: take over.
            taken = await self.client.set(state_key, lease, px=self.lease_ms)
        if taken:
            attempts_key = keys.send_attempts(self.platform, reply.request_id)
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.incr(attempts_key)
                pipe.expire(attempts_key, self.dedupe_ttl_s)
                attempt = int((await pipe.execute())[0])
            if attempt > self.max_attempts:
                with request_context(request_id):
                    log.error("replies: giving up on %s after %d failed sends", request_id, attempt - 1)
                await self.client.set(state_key, "dropped", ex=self.dedupe_ttl_s)
                await self.client.xack(self.stream, self.group, entry_id)
                return None
            self._inflight.add(entry_id)
            return ClaimedReply(entry_id=entry_id, reply=reply, attempt=attempt, lease=lease)
        state = _text(await self.client.get(state_key) or b"")
        if state in {"sent", "dropped"}:
            REPLIES_DUPLICATE.labels(platform=self.platform).inc()
            with request_context(request_id):
                log.info("replies: %s already %s; acking duplicate entry %s", request_id, state, entry_id)
            await self.client.xack(self.stream, self.group, entry_id)
        # else another consumer is sending it right now: leave it pending; a later claim re-checks.
        return None

    async def ack(self, claimed: ClaimedReply) -> float:
        """Mark the request sent and XACK the entry; returns the delivery lag in seconds."""
        reply = claimed.reply
        # "sent" must be recorded before the XACK: a crash in between then only re-acks, never re-sends.
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.set(keys.send_state(self.platform, reply.request_id), "sent", ex=self.dedupe_ttl_s)
            pipe.xack(self.stream, self.group, claimed.entry_id)
            pipe.delete(keys.send_attempts(self.platform, reply.request_id))
            await pipe.execute()
        self._inflight.discard(claimed.entry_id)
        lag = observe_reply_delivered(reply)
        with request_context(reply.request_id):
            log.info("replies: delivered %s reply for %s (lag %.3f s)", reply.status, reply.request_id, lag)
        return lag

    async def release(self, claimed: ClaimedReply) -> None:
        """The send failed: drop the lease and leave the entry pending; it is retried after
        ``claim_idle_ms`` (by this or another consumer), up to ``max_attempts`` sends."""
        self._inflight.discard(claimed.entry_id)
        REPLIES_RELEASED.labels(platform=self.platform).inc()
        await self._release(keys=[keys.send_state(self.platform, claimed.reply.request_id)], args=[claimed.lease])

    async def run(self, handler: Callable[[PoemReply], Awaitable[object]]) -> None:
        """Call ``handler`` for each reply, ack when it returns, release when it raises."""
        async for claimed in self.replies():
            try:
                await handler(claimed.reply)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await self.release(claimed)
                raise
            except Exception as exc:
                # Retried, so expected and handled: one WARNING line without a traceback, counted in
                # poetcore_replies_released_total; the last attempt's drop is the ERROR (in _admit).
                with request_context(claimed.reply.request_id):
                    log.warning("replies: sending %s failed (%s: %s; attempt %d of %d); it stays pending for a "
                                "retry", claimed.reply.request_id, type(exc).__name__, exc, claimed.attempt,
                                self.max_attempts)
                await self.release(claimed)
                continue
            await self.ack(claimed)

__all__ = [
    "ClaimedReply",
    "ReplyConsumer",
    "ReplyPublisher",
]
