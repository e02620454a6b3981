"""``poetbot demo``: the bot in a terminal, with an embedded Redis and a worker, no token needed.

Interactive on a terminal: type the same commands as in Telegram (``/poem 秋月 七绝``), poems are
printed as they arrive, ``/quit`` or Ctrl-D leaves. With stdin piped it reads every line, prints
every answer, and exits once all poems have arrived::

    printf '/poem 秋月 七绝\\n' | poetbot demo

The worker runs as a child process (``python -m worker``), so torch never loads in the bot process;
its log goes to ``<data_dir>/demo-worker.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from bots.core.chat import ChatCore
from bots.core.clock import run_chat_clock
from bots.core.delivery import run_delivery
from bots.core.messages import t
from bots.core.models import IncomingMessage, OutgoingMessage
from bots.core.settings import BotSettings
from worker.contract import keys
from worker.contract.launch import start_worker_process
from worker.contract.protocol import PoemReply
from worker.contract.redis_server import resolve_redis_url
from worker.contract.replies import ReplyConsumer
from worker.contract.service import PoemService
from worker.contract.settings import QueueSettings

__all__ = ["DemoSession", "run_demo"]

log = logging.getLogger(__name__)

QUIT = frozenset({"/quit", "/exit", "/q", "退出"})
WORKER_LOG = "demo-worker.log"


@dataclass
class DemoSession:
    """One console conversation: its own reply stream (platform ``console-<id>``), so two demos
    sharing an embedded Redis never print each other's poems."""

    core: ChatCore
    out: TextIO
    locale: str | None = None
    platform: str = field(default_factory=lambda: f"console-{uuid.uuid4().hex[:8]}")
    pending: set[str] = field(default_factory=set)
    user_id: str = "console"
    user_name: str | None = None
    is_group: bool = False  # becomes a pretend group once /as has named a player
    _count: int = 0
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def print(self, text: str) -> None:
        self.out.write(text.rstrip("\n") + "\n\n")
        self.out.flush()

    async def say(self, text: str) -> list[OutgoingMessage]:
        """Handle one typed line as a chat message and print the immediate answers.

        ``/as 名字`` makes the next lines come from the player 名字 (``/as`` alone: back to you), so
        one person can try a group game with several players.
        """
        self._count += 1
        if text == "/as" or text.startswith("/as "):
            name = text[3:].strip()[:16]
            self.user_id, self.user_name = (f"console-{name}", name) if name else ("console", None)
            self.is_group = True
            self.print(t("demo_as", self.locale, name=name or t("demo_you", self.locale)))
            return []
        msg = IncomingMessage(platform=self.platform, chat_id="console", user_id=self.user_id, text=text,
                              locale=self.locale, message_id=str(self._count), is_group=self.is_group,
                              user_name=self.user_name or t("demo_you", self.locale))
        answers = await self.core.handle(msg)
        for answer in answers:
            if answer.request_id:
                self.pending.add(answer.request_id)
            self.print(answer.text)
        return answers

    async def show_reply(self, reply: PoemReply, out: OutgoingMessage) -> None:
        """The delivery callback: print the poem (or failure) for a pending request."""
        self.print(out.text)
        self.pending.discard(reply.request_id)
        self._arrived.set()

    async def wait_all(self, timeout: float, worker: subprocess.Popen[bytes] | None = None) -> bool:
        """Until every queued request got its reply; False on timeout or when the worker died."""
        deadline = time.monotonic() + timeout
        while self.pending:
            if worker is not None and worker.poll() is not None:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), min(left, 0.5))
        return True


def _worker_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no worker log)"


async def _interactive(session: DemoSession, stdin: TextIO, worker: subprocess.Popen[bytes] | None) -> None:
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, stdin.readline)
        if not line or line.strip() in QUIT:
            return
        if line.strip():
            await session.say(line.strip())
        if worker is not None and worker.poll() is not None:
            session.print(t("demo_worker_exited", session.locale, log=WORKER_LOG))
            return


async def _piped(session: DemoSession, stdin: TextIO, timeout: float, worker: subprocess.Popen[bytes] | None,
                 worker_log: Path) -> int:
    for line in stdin.read().splitlines():
        if line.strip() in QUIT:
            break
        if line.strip():
            session.out.write(f"> {line.strip()}\n")
            await session.say(line.strip())
    if await session.wait_all(timeout, worker):
        return 0
    if worker is not None and worker.poll() is not None:
        print(f"poetbot demo: the worker exited with code {worker.returncode}; its log ends with:\n"
              f"{_worker_tail(worker_log)}", file=sys.stderr)
    else:
        print(f"poetbot demo: {len(session.pending)} poem(s) still missing after {timeout:.0f} s "
              "(raise POETBOT_DEMO_TIMEOUT_S, or check the worker log)", file=sys.stderr)
    return 1


async def run_demo(
    settings: BotSettings,
    queue_settings: QueueSettings,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    locale: str | None = None,
    start_worker: bool = True,
) -> int:
    """Run a console session; returns the exit code (0: every poem arrived)."""
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    url, embedded = resolve_redis_url(queue_settings)
    worker_log = Path(queue_settings.data_dir) / WORKER_LOG
    worker: subprocess.Popen[bytes] | None = None
    service = PoemService.from_url(url, queue_settings)
    # A terminal has no flood limit: game verdicts are never held back to be combined.
    core = ChatCore(service, settings.model_copy(update={"game_chat_limit": 100, "group_placeholder_limit": 0}))
    core.uses_placeholders = False  # the console prints the poem below, it edits nothing
    session = DemoSession(core, out, locale)
    consumer = ReplyConsumer.from_settings(queue_settings, session.platform, url, consumer="demo")
    delivery: asyncio.Task[None] | None = None

    async def show_game(out: OutgoingMessage) -> None:
        session.print(out.text)

    clock = asyncio.create_task(run_chat_clock(core.games, None, session.platform, show_game))
    try:
        if start_worker:
            worker_log.parent.mkdir(parents=True, exist_ok=True)
            worker = start_worker_process(url, log_path=worker_log)
        delivery = asyncio.create_task(run_delivery(session.core, consumer, session.show_reply))
        if stdin.isatty():
            session.print(session.core.help_text(locale))
            await _interactive(session, stdin, worker)
            return 0
        return await _piped(session, stdin, settings.demo_timeout_s, worker, worker_log)
    finally:
        clock.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await clock
        if delivery is not None:
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery
        await consumer.aclose()
        with contextlib.suppress(Exception):
            service.connection.delete(keys.reply_stream(session.platform))
        service.connection.close()
        if worker is not None and worker.poll() is None:
            worker.send_signal(signal.SIGTERM)  # warm shutdown: the current job finishes first
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        if embedded is not None:
            embedded.stop()
