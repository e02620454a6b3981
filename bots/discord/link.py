"""The bot's link to Discord: whether it answers, and riding out the times it does not.

Discord goes away now and then: its gateway drops, its REST API answers 5xx, or the network between
us fails. None of that may stop the bot or lose an answer, and none of it is a bug to page anyone
about. So (the same shape as ``bots.telegram.link`` for the Bot API):

- **Start.** ``run_discord`` logs in until Discord answers, with capped, jittered back-off (a fresh
  client per try); the process stays up and ``/healthz`` says not ready (part ``"discord"``) until
  the gateway has said READY. A rejected token or a refused intent is not an outage: it raises.
- **Gateway.** discord.py reconnects the gateway itself (RESUME, else IDENTIFY afresh). The client
  reports each drop and each READY/RESUMED here, so readiness follows the gateway.
- **REST.** Every call that talks to Discord's REST API goes through `DiscordLink.call`. A failure
  of the platform (no connection, reset, 5xx) marks the link down: one WARNING line, ``/healthz``
  not ready, and one probe task asks Discord (``GET /oauth2/applications/@me``) with the same
  back-off until it answers (one INFO line). Meanwhile every call waits, then is made again. Any
  other answer (403, 404, a 429 that outlasted discord.py's own waits) goes to the caller.

Retrying a channel post is safe: each post carries a nonce with ``enforce_nonce``, so Discord
returns the message it already made instead of posting twice. Follow-ups (interaction webhooks)
take no nonce: one whose request reached Discord but whose answer was lost can show twice.
Each expected condition counts in ``bots.core.metrics``; none logs a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import aiohttp
import discord

from bots.core.backoff import Backoff
from bots.core.metrics import PLATFORM_OUTAGES, PLATFORM_RETRIES, PLATFORM_UP
from worker.contract.health import Health

__all__ = ["PLATFORM", "TRANSIENT_ERRORS", "DiscordLink", "is_transient"]

log = logging.getLogger(__name__)

T = TypeVar("T")

PLATFORM = "discord"
"""The platform label of the metrics, and this front-end's part name in `Health`."""

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,  # refused, reset, server disconnected
    OSError,  # socket errors; TimeoutError is one too
    discord.DiscordServerError,  # 5xx, after discord.py's own retries
    discord.GatewayNotFound,
)
"""Failures of the platform rather than of the request: worth waiting out."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT_ERRORS)


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


Probe = Callable[[], Awaitable[object]]


class DiscordLink:
    """Whether Discord answers; ``call`` waits while its REST API does not (see the module docstring).

    ``health`` (optional: ``poetbot serve`` has one only with a metrics port) hears every change of
    the part ``"discord"``, which is ready while the gateway is connected and REST calls get through.
    The link starts with the gateway down: nothing is ready before the first READY.
    """

    def __init__(self, health: Health | None = None, *, retry_first_s: float = 1.0,
                 retry_max_s: float = 60.0) -> None:
        self.health = health
        self.retry_first_s = retry_first_s
        self.retry_max_s = retry_max_s
        self._gateway = False
        self._rest = asyncio.Event()  # binds to a loop on first wait (Python >= 3.10)
        self._rest.set()  # optimistic until a call fails
        self._probe: Probe | None = None
        self._prober: asyncio.Task[None] | None = None
        self._down_since: float | None = time.monotonic()  # down until the first READY
        self._announced = False  # the WARNING for the current outage was logged
        self._failures = 0
        self._publish()

    def backoff(self) -> Backoff:
        return Backoff(first_s=self.retry_first_s, cap_s=self.retry_max_s)

    def use_probe(self, probe: Probe | None) -> None:
        """What to call to learn whether REST answers again (the logged-in client's, or None).

        A new client starts optimistic: its calls try at once, and the first failure starts a probe.
        """
        self._probe = probe
        self._rest.set()

    # ----------------------------------------------------------------- state
    @property
    def up(self) -> bool:
        """Ready to serve: the gateway is connected and REST calls get through."""
        return self._gateway and self._rest.is_set()

    @property
    def rest_up(self) -> bool:
        return self._rest.is_set()

    def gateway_up(self) -> None:
        """READY or RESUMED: events flow again."""
        self._gateway = True
        self._publish()

    def gateway_down(self) -> None:
        """The gateway connection dropped; discord.py reconnects it with its own back-off (and logs
        each failed try, as one WARNING line: ``bots.discord.compat.ReconnectLogFilter``)."""
        if self._gateway:
            self._gateway = False
            if self._down_since is None:
                self._down_since = time.monotonic()
            log.info("Discord: gateway disconnected; discord.py reconnects it")
        self._publish()

    def failed(self, what: str, exc: BaseException) -> None:
        """A try to reach Discord failed on the platform's side (start-up login, a REST call)."""
        PLATFORM_RETRIES.labels(platform=PLATFORM).inc()
        if self._down_since is None:
            self._down_since = time.monotonic()
        self._failures += 1
        if not self._announced:
            self._announced = True
            PLATFORM_OUTAGES.labels(platform=PLATFORM).inc()
            log.warning("Discord: unreachable (%s: %s); waiting for it, retrying with back-off up to %g s",
                        what, _reason(exc), self.retry_max_s)
        else:
            log.debug("Discord: still unreachable (%s: %s)", what, _reason(exc))

    def rest_failed(self, what: str, exc: BaseException) -> None:
        """A REST call failed on the platform's side: calls wait, and one probe asks until Discord answers."""
        self.failed(what, exc)
        self._rest.clear()
        self._publish()
        if self._probe is not None and (self._prober is None or self._prober.done()):
            self._prober = asyncio.create_task(self._probe_until_up(self._probe), name="discord-probe")

    def _rest_ok(self) -> None:
        if not self._rest.is_set():
            self._rest.set()
            self._publish()

    def _publish(self) -> None:
        up = self.up
        PLATFORM_UP.labels(platform=PLATFORM).set(1 if up else 0)
        if self.health is not None:
            self.health.set_part_ready(PLATFORM, up)
        if up and self._down_since is not None:
            if self._announced:
                log.info("Discord: answers again after %.1f s (%d failed attempts)",
                         time.monotonic() - self._down_since, self._failures)
            self._down_since = None
            self._announced = False
            self._failures = 0

    async def _probe_until_up(self, probe: Probe) -> None:
        """One probe at a time, with back-off, until REST answers; then every waiting call goes."""
        backoff = self.backoff()
        while True:
            await asyncio.sleep(backoff.next())
            try:
                await probe()
            except Exception as exc:
                if is_transient(exc):
                    self.failed("probe", exc)
                    continue
                if not isinstance(exc, discord.HTTPException):  # a bug, not an outage: say so
                    log.exception("Discord: probing the REST API failed unexpectedly; probing again")
                    continue
                # Any other HTTP answer (401, 429 ...) is Discord answering: the calls meet it themselves.
            self._rest_ok()
            return

    # ----------------------------------------------------------------- calls
    async def call(self, what: str, fn: Callable[[], Awaitable[T]], *, give_up_at: float | None = None) -> T:
        """``await fn()``, waiting while Discord's REST API is unreachable; other errors propagate.

        ``give_up_at`` (``time.monotonic()``): past it the transient error propagates instead of
        another wait, for callers whose claim on the work expires (a reply's delivery lease, an
        interaction's token).
        """
        backoff = self.backoff()
        while True:
            if not self._rest.is_set() and self._probe is not None:
                left = None if give_up_at is None else give_up_at - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"Discord unreachable; gave up on {what}")
                try:
                    await asyncio.wait_for(self._rest.wait(), left)
                except TimeoutError:
                    raise TimeoutError(f"Discord unreachable; gave up on {what}") from None
            try:
                result = await fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self.rest_failed(what, exc)
                if give_up_at is not None and time.monotonic() >= give_up_at:
                    raise
                if self._probe is None:  # nobody probes: this call retries itself
                    await asyncio.sleep(backoff.next())
                continue
            self._rest_ok()
            return result

    async def wait_until_rest_up(self) -> None:
        await self._rest.wait()

    async def close(self) -> None:
        """Stop probing (the client is closing); calls still waiting are cancelled with their tasks."""
        if self._prober is not None:
            self._prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prober
            self._prober = None
