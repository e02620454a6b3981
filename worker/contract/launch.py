"""Start a poem worker as a child process, by module name: the caller never imports the worker runtime.

A separate process keeps torch out of the bot process and gives the worker its own signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

WORKER_MODULE = "worker"
"""``python -m worker`` is ``poetbot worker``."""

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: SIGTERM the child when its parent dies, even by kill -9, so no orphan worker serves on.

    The signal follows the *thread* that forked: every caller starts workers from the main thread.
    """
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the parent's own shutdown stops it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_worker_process(
    redis_url: str,
    *,
    queues: list[str] | None = None,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    log_path: str | Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``python -m worker`` as a child process (how ``poetbot demo`` serves poems).

    A separate process keeps torch out of the bot process and gives the worker its own signals.
    Stop it with ``proc.send_signal(SIGTERM)`` (finishes the current job) and ``proc.wait()``.
    """
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(
            [sys.executable, "-m", WORKER_MODULE, *(queues or []), *(args or [])],
            env={**os.environ, **(env or {}), "REDIS_URL": redis_url},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]

__all__ = [
    "WORKER_MODULE",
    "SupervisedWorker",
    "start_worker_process",
]


class SupervisedWorker:
    """A worker child process that is started again whenever it dies (``poetbot serve --embedded-worker``).

    A single-box set-up has no Kubernetes to restart a crashed worker; without this, a worker that
    exits (a kill, an out-of-memory, a Redis outage it could not ride out) would leave every later
    request acknowledged and never answered. Restarts back off from 1 s to 30 s.
    """

    def __init__(self, redis_url: str, log_path: Path, *, max_backoff_s: float = 30.0) -> None:
        self.redis_url = redis_url
        self.log_path = log_path
        self.max_backoff_s = max_backoff_s
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = False

    def start(self) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = start_worker_process(self.redis_url, log_path=self.log_path)
        log.info("embedded worker started (pid %d, log in %s)", self.process.pid, self.log_path)
        return self.process

    async def supervise(self, poll_s: float = 0.5) -> None:
        """Run until cancelled, restarting the child whenever it exits."""
        backoff = 1.0
        if self.process is None:
            self.start()
        while not self._stopping:
            await asyncio.sleep(poll_s)
            assert self.process is not None
            code = self.process.poll()
            if code is None or self._stopping:
                continue
            log.error("embedded worker (pid %d) exited with %s; restarting in %.0f s (log: %s)",
                      self.process.pid, code, backoff, self.log_path)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)
            if not self._stopping:
                self.start()
                self.restarts += 1

    def stop(self, timeout_s: float = 60.0) -> None:
        """Warm shutdown: SIGTERM lets the current poem finish."""
        self._stopping = True
        proc = self.process
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
