"""Helpers to run real worker processes and wait for their effects in tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from worker.contract.protocol import PoemReply
from worker.contract.replies import ReplyConsumer

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = TESTS_DIR.parent

T = TypeVar("T")

# Fast settings for tests: short heartbeats so crash recovery takes ~1 s.
FAST = {
    "POETCORE_LOG_FORMAT": "json",
    "POETCORE_HEARTBEAT_INTERVAL_S": "0.2",
    "POETCORE_LIVENESS_TTL_S": "1.0",
    "POETCORE_RETRY_INTERVALS_S": "[0, 0]",
    "POETCORE_JOB_MODULES": '["worker.jobs", "support.jobs"]',  # the fault-injection jobs of tests/support
}


def worker_env(redis_url: str, **settings: Any) -> dict[str, str]:
    """Environment for a worker subprocess: test jobs importable, settings as POETCORE_* vars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POETCORE_", "POETBOT_")) and k != "REDIS_URL"}
    env.update(FAST)
    env["REDIS_URL"] = redis_url
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), str(REPO_DIR), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    for key, value in settings.items():
        env[f"POETCORE_{key.upper()}"] = str(value)
    return env


def spawn_worker(redis_url: str, log_dir: Path, name: str, *args: str, extra_env: dict[str, str] | None = None,
                 **settings: Any) -> subprocess.Popen[bytes]:
    """``python -m worker --name NAME ARGS`` with its log in ``log_dir/NAME.log``."""
    log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "worker", "--name", name, *args],
            env=worker_env(redis_url, **settings) | (extra_env or {}),
            cwd=REPO_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def wait_until(predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, what: str = "") -> T:
    """Poll until ``predicate()`` is truthy; returns its value or fails with ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(interval)


async def collect(consumer: ReplyConsumer, count: int, timeout: float = 10.0, *, linger: float = 0.0,
                  ack: bool = True, until: Callable[[], object] | None = None) -> list[PoemReply]:
    """Read and ack replies until ``count`` arrived (and ``until()`` holds, when given), then
    ``linger`` s more. ``timeout`` only bounds a failure.

    Stops the consumer at the end (a new ``ReplyConsumer`` is needed to read again).
    """
    got: list[PoemReply] = []

    async def read() -> None:
        async for claimed in consumer.replies():
            got.append(claimed.reply)
            if ack:
                await consumer.ack(claimed)

    task = asyncio.create_task(read())
    deadline = time.monotonic() + timeout
    try:
        while len(got) < count or (until is not None and not until()):
            if task.done():
                task.result()
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(got)} of {count} replies (until: {until and until()}) within "
                                     f"{timeout} s: {got}")
            await asyncio.sleep(0.02)
        await asyncio.sleep(linger)
    finally:
        consumer.stop()
        try:
            await asyncio.wait_for(task, consumer.block_ms / 1000 + 5)
        except TimeoutError:
            task.cancel()
    return got


def log_text(log_dir: Path, name: str) -> str:
    path = log_dir / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""
