"""The bot's link to the Bot API: every call goes through it, and it rides out an unreachable API.

A bot that exits when Telegram (or a self-hosted Bot API server, or the network to it) does not
answer becomes a crash loop under systemd or Kubernetes, whose growing back-off keeps it away for
minutes after the API is back; and a bot that gives up on a call mid-run loses that answer. So:

- **Start.** ``connect`` calls getMe (``Application.initialize``) until it answers, with capped,
  jittered back-off; the process stays up and its ``/healthz`` says not ready (part "telegram")
  until then. A rejected token is not an outage: it raises at once (an operator must act).
- **Mid-run.** ``call`` runs one Bot API call. A network failure (connection refused, a timeout,
  a 5xx: PTB's ``NetworkError`` except ``BadRequest``) marks the link down: one WARNING line,
  ``/healthz`` not ready, and one probe task calls getMe with the same back-off until the API
  answers (one INFO line). Meanwhile every call waits, then is made again: ``getUpdates`` resumes
  with the offset it had, a placeholder is sent, a reply edited; no delivery attempt is used up and
  nothing is dropped.
- **429.** Flood control is waited out for exactly its ``retry_after`` (one INFO line each); only
  past ``max_flood_wait_s`` in all does ``RetryAfter`` reach the caller.

Retrying a send whose request may have left before the connection broke (a timeout) can post it
twice: the Bot API has no idempotency key, and dropping it would lose the answer, so at least once.
Each expected condition is counted in ``bots.metrics``; none logs a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bots.core.backoff import Backoff
from bots.core.metrics import FLOOD_WAIT_SECONDS, FLOOD_WAITS, PLATFORM_OUTAGES, PLATFORM_RETRIES, PLATFORM_UP
from worker.contract.health import Health

__all__ = ["BotApiLink", "is_transient", "retry_after_s"]

log = logging.getLogger(__name__)

T = TypeVar("T")


def retry_after_s(exc: RetryAfter) -> float:
    """PTB 22 gives an int of seconds, later versions a timedelta."""
    value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def is_transient(exc: BaseException) -> bool:
    """The API could not be reached or did not answer (PTB's ``BadRequest`` is a ``NetworkError`` too,
    but it is the API answering "no": retrying cannot fix it)."""
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def _reason(exc: BaseException) -> str:
    """One short line: PTB's message already names the httpx error ("httpx.ConnectError: ...")."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class BotApiLink:
    """Whether the Bot API answers; ``call`` waits while it does not (see the module docstring).

    ``health`` (optional): the process's ``Health``; the link is its part ``platform``, not ready
    from construction until the API first answers, and again while it is away.
    """

    def __init__(
        self,
        bot: Bot,
        *,
        platform: str = "telegram",
        health: Health | None = None,
        retry_first_s: float = 0.5,
        retry_max_s: float = 10.0,
        max_flood_wait_s: float = 900.0,
    ) -> None:
        self.bot = bot
        self.platform = platform
        self.health = health
        self.retry_first_s = retry_first_s
        self.retry_max_s = retry_max_s
        self.max_flood_wait_s = max_flood_wait_s
        self._up = asyncio.Event()
        self._up.set()  # optimistic until a call fails: handlers driven without connect() just work
        self._down_since: float | None = None
        self._attempts = 0
        self._prober: asyncio.Task[None] | None = None
        if health is not None:
            health.set_part_ready(platform, False)  # not ready before the API has answered once

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    def backoff(self) -> Backoff:
        return Backoff(first_s=self.retry_first_s, cap_s=self.retry_max_s)

    # --- start -------------------------------------------------------------------------------
    async def connect(self, initialize: Callable[[], Awaitable[object]]) -> None:
        """Run ``initialize`` (getMe) until the API answers; other errors (a rejected token) raise."""
        backoff = self.backoff()
        while True:
            try:
                await initialize()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self._went_down(exc, probe=False)
                await asyncio.sleep(backoff.next())
                continue
            self._came_up()
            return

    # --- calls -------------------------------------------------------------------------------
    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        max_flood_wait_s: float | None = None,
        after_outage: Callable[[], Awaitable[None]] | None = None,
    ) -> T:
        """``await fn()``, waiting while the API is unreachable and out every 429.

        ``max_flood_wait_s`` (default: the link's) bounds the total 429 wait; past it ``RetryAfter``
        propagates (delivery then retries the reply later). Network waits are not bounded: the call
        is made once the API answers again, or cancelled with its task. ``after_outage`` runs when
        the API answers again after this call waited for it, before the call is made: it may raise
        to give the call up (what it was for may have happened meanwhile).
        """
        limit = self.max_flood_wait_s if max_flood_wait_s is None else max_flood_wait_s
        deadline = time.monotonic() + limit
        while True:
            if await self.wait_up() and after_outage is not None:
                await after_outage()
            try:
                return await fn()
            except RetryAfter as exc:
                wait = retry_after_s(exc)
                if time.monotonic() + wait > deadline:
                    raise
                FLOOD_WAITS.labels(platform=self.platform).inc()
                FLOOD_WAIT_SECONDS.labels(platform=self.platform).inc(wait)
                log.info("Telegram: flood control, waiting %.1f s as asked", wait)
                await asyncio.sleep(wait)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self._went_down(exc, probe=True)

    async def wait_up(self) -> bool:
        """Return once the API answers; True when that meant waiting for it."""
        if self._up.is_set():
            return False
        await self._up.wait()
        return True

    # --- state -------------------------------------------------------------------------------
    def _went_down(self, exc: BaseException, *, probe: bool) -> None:
        PLATFORM_RETRIES.labels(platform=self.platform).inc()
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._attempts = 0
            PLATFORM_OUTAGES.labels(platform=self.platform).inc()
            PLATFORM_UP.labels(platform=self.platform).set(0)
            if self.health is not None:
                self.health.set_part_ready(self.platform, False)
            log.warning("Telegram: Bot API unreachable (%s); waiting for it, retrying with back-off up to %.1f s",
                        _reason(exc), self.retry_max_s)
        else:
            log.debug("Telegram: Bot API still unreachable (%s)", _reason(exc))
        self._attempts += 1
        self._up.clear()
        if probe and (self._prober is None or self._prober.done()):
            self._prober = asyncio.create_task(self._probe_until_up(), name="telegram-probe")

    def _came_up(self) -> None:
        PLATFORM_UP.labels(platform=self.platform).set(1)
        if self.health is not None:
            self.health.set_part_ready(self.platform, True)
        if self._down_since is not None:
            log.info("Telegram: Bot API answers again after %.1f s (%d failed attempts)",
                     time.monotonic() - self._down_since, self._attempts)
            self._down_since = None
        self._up.set()

    async def _probe_until_up(self) -> None:
        """One getMe at a time, with back-off, until the API answers; then every waiting call goes."""
        backoff = self.backoff()
        while True:
            await asyncio.sleep(backoff.next())
            try:
                await self.bot.get_me()
            except TelegramError as exc:
                if is_transient(exc):
                    self._went_down(exc, probe=False)
                    continue
                # Any other answer (429, 401 ...) is the API answering: the calls meet it themselves.
            except Exception:  # a bug, not an outage: say so, and keep the waiting calls' hope alive
                log.exception("Telegram: probing the Bot API failed unexpectedly; probing again")
                continue
            self._came_up()
            return

    async def close(self) -> None:
        """Stop probing (the bot is stopping); calls still waiting are cancelled with their tasks."""
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
            self._prober = None
