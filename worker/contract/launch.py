"""Start a poem worker as a child process, by module name: the caller never imports the worker runtime.

A separate process keeps torch out of the bot process and gives the worker its own signals.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

WORKER_MODULE = "worker"
"""``python -m worker`` is ``poetbot worker``."""


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
        )
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]

__all__ = [
    "WORKER_MODULE",
    "start_worker_process",
]
