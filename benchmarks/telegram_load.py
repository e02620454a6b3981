"""Telegram load benchmark: N users each send /poem at once, with Bot API latency added.

Usage::

    python benchmarks/telegram_load.py                      # 1000 users, 100 ms latency, concurrency 64 vs 1
    python benchmarks/telegram_load.py --users 300 --latency 0.3 --concurrency 64

It runs the real Telegram front-end (PTB, durable intake, AIORateLimiter) against the test suite's
fake Bot API on 127.0.0.1 and an embedded Redis, and measures how long users wait for the bot's
first answer (the "正在作诗…" acknowledgement, each in its own private chat). Printed side by side
for each concurrency, as p50 / p95 / last, so the ratio is the comparison (the machine is noisy).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]  # the project first: tests/bots must not shadow bots
sys.path.append(str(ROOT / "tests"))  # the fake Bot API and the settings builders

from support.fake_telegram import FakeTelegram  # noqa: E402
from support.settings import make_bot_settings, make_queue_settings  # noqa: E402

from bots.core.chat import ChatCore  # noqa: E402
from bots.telegram import TelegramBot  # noqa: E402
from worker.contract.redis_server import RedisServer  # noqa: E402
from worker.contract.service import PoemService  # noqa: E402


async def run_case(users: int, latency: float, concurrency: int, url: str) -> list[float]:
    async with FakeTelegram() as fake:
        fake.latency_s = latency
        settings = make_bot_settings(telegram_token=fake.token, telegram_base_url=fake.base_url,
                                     telegram_poll_timeout_s=1, telegram_concurrent_updates=concurrency,
                                     telegram_overall_rate=1_000_000)
        service = PoemService.from_url(url, make_queue_settings(user_limit=0, chat_limit=0, max_queue_length=100_000))
        service.connection.flushall()
        bot = TelegramBot(ChatCore(service, settings, bot_username="poetbot"), settings)
        await bot.start()
        try:
            sent: dict[int, float] = {}
            for i in range(users):
                chat = 10_000 + i
                sent[chat] = time.monotonic()
                await fake.user_says(chat, "/poem 秋月", user_id=chat)
            await fake.wait_for(lambda f: all(f.chat(c) for c in sent), timeout=users * latency * 3 + 60)
            return sorted(fake.chat(c)[0].sent_at - t0 for c, t0 in sent.items())
        finally:
            await bot.stop()
            service.connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", default="64,1", help="comma-separated telegram_concurrent_updates values")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp) / "redis", appendonly=False).start()
        try:
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                waits = asyncio.run(run_case(args.users, args.latency, concurrency, redis.url))
                p95 = statistics.quantiles(waits, n=20)[18]
                print(f"users {args.users}  latency {args.latency * 1000:.0f} ms  concurrent_updates {concurrency:>4}: "
                      f"first answer p50 {statistics.median(waits):.1f} s  p95 {p95:.1f} s  last {waits[-1]:.1f} s")
        finally:
            redis.stop()


if __name__ == "__main__":
    main()
