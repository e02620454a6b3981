"""Busy-groups benchmark: a burst of poem requests into Telegram groups, through a fake Bot API that
paces like Telegram (20 messages a minute per group, 30 a second in all, 429 past either).

Usage::

    python benchmarks/group_burst.py                              # 1,000 requests, 100 users, 10 groups
    python benchmarks/group_burst.py --requests 300 --spread-s 30
    python benchmarks/group_burst.py --code /tmp/old-checkout     # the same burst against another checkout

Each of 100 users (10 per group) sends ``requests / users`` /poem commands at random moments over
``--spread-s`` seconds. The real Telegram front-end (PTB, durable intake, AIORateLimiter) and the
chat core run with their default settings and limits; noop workers answer each poem after
``--noop-delay-ms``. For every request the benchmark finds, in the fake's record of what the bot
sent:

- its first answer: a placeholder or a refusal replying to it, a "group busy" notice, a combined
  notice naming its sender, or its poem;
- its end: its poem, or a refusal (replying to it, or a notice naming its sender).

It prints time to first answer and to the end (p50, p95, max), how many were admitted (a poem came)
and refused, and how many were lost (no end) or duplicated (two poems, or a poem and a refusal).
``--code`` runs another checkout's bots and workers against this checkout's fake, for before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _code_root() -> Path:
    for i, arg in enumerate(sys.argv):
        if arg == "--code" and i + 1 < len(sys.argv):
            return Path(sys.argv[i + 1]).resolve()
        if arg.startswith("--code="):
            return Path(arg.split("=", 1)[1]).resolve()
    return ROOT


CODE = _code_root()
sys.path[:0] = [str(CODE)]  # the checkout under test first: tests/bots must not shadow bots
sys.path.append(str(ROOT / "tests"))  # this checkout's fake Bot API

from support.fake_telegram import FakeTelegram  # noqa: E402

from bots.core.chat import ChatCore  # noqa: E402
from bots.core.settings import BotSettings  # noqa: E402
from bots.telegram import TelegramBot  # noqa: E402
from worker.contract.connection import connect  # noqa: E402
from worker.contract.redis_server import RedisServer  # noqa: E402
from worker.contract.replies import ReplyConsumer  # noqa: E402
from worker.contract.service import PoemService  # noqa: E402
from worker.contract.settings import QueueSettings  # noqa: E402

TOPICS = ("秋月", "春风", "江雪", "送别", "登高", "思乡", "梅花")
REFUSAL_PREFIXES = ("请求太频繁", "这个群里请求太频繁", "现在作诗的人太多", "本群此刻请求太多")
"""How the bot words a refusal (simplified Chinese): per request, or the combined group notice."""


@dataclass
class Ask:
    chat: int
    message_id: int
    name: str
    sent: float
    first: float | None = None
    end: float | None = None
    poems: int = 0
    refusals: int = 0
    named_at: list[float] = field(default_factory=list)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def _start_workers(url: str, count: int, delay_ms: int, log_dir: Path) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POETCORE_", "POETBOT_"))}
    env.update({"REDIS_URL": url, "POETCORE_COMPOSER": "noop", "POETCORE_NOOP_DELAY_MS": str(delay_ms),
                "POETCORE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(CODE)})
    procs = []
    for i in range(count):
        with open(log_dir / f"w{i}.log", "ab") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", "worker", "--name", f"burst-w{i}"],
                                          env=env, cwd=CODE, stdout=log, stderr=subprocess.STDOUT))
    return procs


def _account(fake: FakeTelegram, asks: list[Ask], t0: float) -> None:
    """Fold what the bot sent into each request's first answer and end.

    Replies are matched to their request. A combined notice names users, not requests: it answers
    those of a named user's requests sent before it that got no poem (the admitted ones get theirs,
    whatever the notice says), so notices are read after every reply.
    """
    by_message = {(a.chat, a.message_id): a for a in asks}
    notices = []
    for m in fake.messages:
        first_text = m.history[0] if m.history else m.text
        target = by_message.get((m.chat_id, m.reply_to)) if m.reply_to else None
        if target is not None:
            target.first = min(target.first or 1e18, m.sent_at - t0)
            if m.text.startswith("《"):  # a poem (the placeholder edited into it, or a reply)
                target.poems += 1
                target.end = min(target.end or 1e18, (m.edited_at or m.sent_at) - t0)
            elif first_text.startswith(REFUSAL_PREFIXES):
                target.refusals += 1
                target.end = min(target.end or 1e18, m.sent_at - t0)
        elif m.text.startswith("本群此刻请求太多"):  # a combined notice: names, no reply
            notices.append(m)
    for m in notices:
        named = set(m.text.split("：", 1)[1].split("。", 1)[0].split("、"))
        for a in asks:
            if a.chat == m.chat_id and a.name in named and a.sent <= m.sent_at and a.poems == 0 and a.end is None:
                a.refusals += 1
                a.first = min(a.first or 1e18, m.sent_at - t0)
                a.end = m.sent_at - t0


async def run(args: argparse.Namespace, url: str) -> None:
    rng = random.Random(args.seed)
    async with FakeTelegram() as fake:
        fake.group_limit = (20, 60.0)
        fake.global_limit = (30, 1.0)
        settings = BotSettings(_env_file=None, line_index=None, telegram_token=fake.token,  # type: ignore[call-arg]
                               telegram_base_url=fake.base_url, telegram_poll_timeout_s=1)
        queue = QueueSettings()
        service = PoemService(connect(url), queue)
        consumer = ReplyConsumer.from_settings(queue, "telegram", url)
        bot = TelegramBot(ChatCore(service, settings, bot_username="poetbot"), settings, consumer)
        await bot.start()
        groups = [-1_000_000 - g for g in range(args.groups)]
        users = [(groups[u % args.groups], 5000 + u) for u in range(args.users)]
        plan = sorted((rng.uniform(0, args.spread_s), u) for u in range(args.users)
                      for _ in range(args.requests // args.users))
        asks: list[Ask] = []
        t0 = time.monotonic()
        try:
            for at, u in plan:
                await asyncio.sleep(max(0.0, at - (time.monotonic() - t0)))
                chat, user = users[u]
                name = f"user{u}"
                mid = await fake.user_says(chat, f"/poem {TOPICS[len(asks) % len(TOPICS)]}", user_id=user, username=name)
                asks.append(Ask(chat, mid, name, time.monotonic()))  # fake's clock: monotonic
            deadline = t0 + args.timeout_s
            while time.monotonic() < deadline:
                for a in asks:
                    a.first = a.end = None
                    a.poems = a.refusals = 0
                _account(fake, asks, t0)
                if all(a.end is not None for a in asks) and service.queue.count == 0:
                    break
                await asyncio.sleep(1.0)
            await asyncio.sleep(args.settle_s)  # late duplicates would land here
            for a in asks:
                a.first = a.end = None
                a.poems = a.refusals = 0
            _account(fake, asks, t0)
        finally:
            await bot.stop()
            await consumer.aclose()
    sent = {id(a): a.sent - t0 for a in asks}
    first = [a.first - sent[id(a)] for a in asks if a.first is not None]
    end = [a.end - sent[id(a)] for a in asks if a.end is not None]
    admitted = sum(a.poems > 0 for a in asks)
    refused = sum(a.poems == 0 and a.refusals > 0 for a in asks)
    lost = sum(a.end is None for a in asks)
    duplicated = sum(a.poems > 1 or (a.poems and a.refusals) for a in asks)
    silent = sum(a.first is None for a in asks)
    print(f"code {CODE}: {len(asks)} requests, {args.users} users, {args.groups} groups over {args.spread_s:.0f} s")
    print(f"  first answer  p50 {_pct(first, .5):6.1f} s  p95 {_pct(first, .95):6.1f} s  max {max(first, default=float('nan')):6.1f} s"
          f"  (no answer at all: {silent})")
    print(f"  poem/refusal  p50 {_pct(end, .5):6.1f} s  p95 {_pct(end, .95):6.1f} s  max {max(end, default=float('nan')):6.1f} s")
    print(f"  admitted {admitted}  refused {refused}  lost {lost}  duplicated {duplicated}  "
          f"429s {fake.flood_refusals}  bot messages {len(fake.messages)}")
    if end:
        print(f"  mean time to end {statistics.mean(end):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=str(ROOT), help="checkout whose bots and workers run (default: this one)")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--groups", type=int, default=10)
    parser.add_argument("--spread-s", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--noop-delay-ms", type=int, default=300)
    parser.add_argument("--timeout-s", type=float, default=480.0)
    parser.add_argument("--settle-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        redis = RedisServer(Path(tmp) / "redis", appendonly=False).start()
        procs = _start_workers(redis.url, args.workers, args.noop_delay_ms, Path(tmp))
        try:
            asyncio.run(run(args, redis.url))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
            redis.stop()


if __name__ == "__main__":
    main()
