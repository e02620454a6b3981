"""Issue 10: a whole `poetbot serve` session at DEBUG never writes a secret to its logs.

One real process runs both front-ends (against the fake Telegram and the fake Discord), an embedded
worker, and a password-protected redis-server that restarts mid-session, so the reconnect paths log
too. Every line the process writes is then searched for the Telegram token, the Discord token and the
Redis password.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.fake_discord import FakeDiscord
from support.fake_telegram import FakeTelegram

from worker.contract.redis_server import RedisServer, free_port

pytestmark = pytest.mark.timeout(180)

POETBOT = Path(sys.executable).with_name("poetbot")
PASSWORD = "pw-Xq7-never-in-logs"
TELEGRAM_TOKEN = "424242:TG-secret-never-in-logs"
DISCORD_TOKEN = "DC.secret-never-in.logs"


@pytest.fixture
def secured_redis(tmp_path: Path) -> RedisServer:
    server = RedisServer(tmp_path / "redis", port=free_port(), password=PASSWORD, appendonly=True).start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeDiscord]]:
    async with FakeTelegram(token=TELEGRAM_TOKEN) as telegram, FakeDiscord(token=DISCORD_TOKEN) as discord:
        yield telegram, discord


def _env(**env: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("POETCORE_", "POETBOT_", "TELEGRAM_", "DISCORD_")) and k != "REDIS_URL"}
    return {**clean, **env}


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return str(r.read().decode())


async def test_a_full_debug_session_never_logs_a_token_or_the_redis_password(
    fakes: tuple[FakeTelegram, FakeDiscord], secured_redis: RedisServer, tmp_path: Path
) -> None:
    telegram, discord = fakes
    env = _env(TELEGRAM_TOKEN=TELEGRAM_TOKEN, TELEGRAM_BASE_URL=telegram.base_url, POETBOT_TELEGRAM_POLL_TIMEOUT_S="1",
               DISCORD_TOKEN=DISCORD_TOKEN, DISCORD_API_BASE=discord.api_base, DISCORD_GATEWAY_URL=discord.gateway_url,
               REDIS_URL=secured_redis.url, POETCORE_COMPOSER="noop", POETCORE_LOG_FORMAT="json",
               POETCORE_DATA_DIR=str(tmp_path / "data"))
    metrics_port = free_port()
    proc = await asyncio.create_subprocess_exec(str(POETBOT), "serve", "--embedded-worker", "--log-level", "DEBUG",
                                                "--metrics-port", str(metrics_port),
                                                cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    lines: list[bytes] = []

    async def collect() -> None:
        while line := await proc.stdout.readline():  # type: ignore[union-attr]
            lines.append(line)

    reader = asyncio.create_task(collect())
    try:
        await telegram.wait_for(lambda f: ("default", "en") in f.commands, timeout=60)
        await discord.wait_for(lambda: discord.connected, timeout=60)
        await telegram.user_says(5001, "/start")
        await telegram.user_says(5001, "/poem 秋月")
        await telegram.user_says(5001, "/check 白日依山尽，黄河入海流。欲穷千里目，更上一层楼。")
        await telegram.user_says(5001, "/poem autumn")
        await telegram.wait_for(lambda f: len(f.chat(5001)) >= 4 and any(m.history for m in f.chat(5001)), 60)
        await discord.send_message("!poem 春风")
        await discord.wait_for(lambda: len(discord.channel_messages()) >= 2, timeout=60)
        # Redis goes away and comes back: every reconnect path logs, and must not log the URL.
        secured_redis.stop()
        await asyncio.sleep(2.0)
        secured_redis.start()
        await telegram.user_says(5001, "/poem 江雪")
        await telegram.wait_for(lambda f: sum(bool(m.history) for m in f.chat(5001)) >= 2, 90)
        await telegram.user_says(5001, "/queue")
        await telegram.user_says(5001, "/rank")
        await telegram.wait_for(lambda f: len(f.chat(5001)) >= 7, 30)
        # The bots' own metrics and health, on their metrics port.
        health = json.loads(await asyncio.to_thread(_get, f"http://127.0.0.1:{metrics_port}/healthz"))
        assert health["ready"] and health["alive"]
        metrics = await asyncio.to_thread(_get, f"http://127.0.0.1:{metrics_port}/metrics")
        # 秋月 and 江雪 (the English topic is refused before it is submitted), and the Discord 春风.
        assert 'poetcore_submissions_total{outcome="accepted",platform="telegram"} 2.0' in metrics
        assert 'poetcore_submissions_total{outcome="accepted",platform="discord"} 1.0' in metrics
        assert 'poetcore_game_commands_total{command="rank"} 1.0' in metrics
        assert 'poetcore_replies_delivered_total{platform="telegram",status="ok"} 2.0' in metrics
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 60)
        except TimeoutError:
            proc.kill()
            raise
        await asyncio.wait_for(reader, 10)
    log = b"".join(lines).decode(errors="replace")
    assert proc.returncode == 0, log[-4000:]
    worker_log = (tmp_path / "data" / "worker.log").read_text(errors="replace")
    # A work loop that lost Redis says when it is back (the command channel resubscribes on its own).
    assert "Redis is back" in worker_log or ": lost Redis (" not in worker_log
    log += worker_log
    assert len(lines) > 200, len(lines)  # DEBUG really was on: httpx, discord.py, RQ and our own lines
    assert "embedded worker started" in log and "Redis" in log
    for secret in (TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1], DISCORD_TOKEN, PASSWORD):
        leaked = [line for line in log.splitlines() if secret in line]
        assert not leaked, f"{secret!r} in {len(leaked)} log lines, e.g. {leaked[0][:300]}"
