"""Game-burst benchmark: a busy group's 飞花令 answers, and how soon each one's verdict is visible.

Usage::

    python benchmarks/game_burst.py                            # 20 answers in 5 s, 3 players, Telegram and Discord
    python benchmarks/game_burst.py --answers 60 --spread-s 15 --rounds 3
    python benchmarks/game_burst.py --latency-ms 150               # each API call takes 150 ms, as over the internet
    python benchmarks/game_burst.py --code /tmp/old-checkout   # the same burst against another checkout's bots

One group plays 飞花令 (令字 月) with the default game settings; three players send ``--answers``
answers evenly over ``--spread-s`` seconds, in turn: real lines (as the built-in index has them),
one in five made up, one in six a repeat of an earlier line. The real front-ends run against this
checkout's fake servers, which enforce the platforms' limits:

- Telegram (PTB, durable intake, the bot's rate limiter): 20 messages a minute per group, sends and
  edits together, 30 a second in all; 429 with ``retry_after`` past either;
- Discord (discord.py): channel posts 5 per 5 s, message edits 5 per 5 s, reactions 1 per 0.25 s,
  each per channel, with Discord's rate-limit headers and 429s.

For each answer it finds, in the fake's record of what the group saw, when its **mark** showed (the
bot's reaction on the answer) and when its **details** did (a reply, or a verdict board holding its
line, as sent or edited), and prints, from the moment the answer was sent:

- verdict visible (the earlier of the two) and details visible: p50, p95, max;
- whether the marks were set in the answers' order and the details showed in it;
- answers with no mark or no details at all (lost), and every 429 the fake answered.

``--latency-ms`` makes each of the fakes' API calls take that long (the fakes answer at once
otherwise), for figures nearer a bot far from the platform's servers.

A checkout without marks (``--code`` of an older one) is measured by its details alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
sys.path.append(str(ROOT / "tests"))  # this checkout's fake servers

from support.fake_discord import FakeDiscord, settle_discord_tasks  # noqa: E402
from support.fake_telegram import FakeTelegram  # noqa: E402
from support.games import burst_answers  # noqa: E402

from bots.core.chat import ChatCore  # noqa: E402
from bots.core.settings import BotSettings, DiscordSettings  # noqa: E402
from bots.discord import run_discord  # noqa: E402
from bots.telegram import TelegramBot  # noqa: E402
from worker.contract.connection import connect  # noqa: E402
from worker.contract.redis_server import RedisServer  # noqa: E402
from worker.contract.service import PoemService  # noqa: E402
from worker.contract.settings import QueueSettings  # noqa: E402

GROUP = -1_000_777


@dataclass
class Answer:
    line: str
    nth: int  # this line's occurrence among the burst's answers (a repeat: 2)
    sent: float  # time.monotonic() when the player sent it
    message_id: str = ""
    mark: float | None = None  # when its reaction showed
    details: float | None = None  # when a message holding its verdict showed

    @property
    def verdict(self) -> float | None:
        shown = [t for t in (self.mark, self.details) if t is not None]
        return min(shown) if shown else None


def plan(index_lines: Sequence[str], count: int) -> list[str]:
    """``count`` answers: real lines, every fifth made up, every sixth a repeat of an earlier line."""
    return burst_answers(index_lines, count)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))] if xs else float("nan")


def _details(answers: list[Answer], versions: list[tuple[float, str, str]]) -> None:
    """Each answer's details: the moment the group's bot messages, each as it read then (``versions``:
    time, message, text as sent or edited), first name its line for the ``nth`` time (a repeat's
    verdict is its line's second mention)."""
    current: dict[str, str] = {}
    for a in answers:
        a.details = None
    for at, message, text in sorted(versions, key=lambda v: v[0]):
        current[message] = text
        lines = [line for shown in current.values() for line in shown.split("\n")]
        for a in answers:
            if a.details is None and at >= a.sent and sum(a.line in line for line in lines) >= a.nth:
                a.details = at


def _in_order(times: list[float | None]) -> bool:
    shown = [t for t in times if t is not None]
    return len(shown) == len(times) and all(x <= y for x, y in itertools.pairwise(shown))


def report(platform: str, answers: list[Answer], mark_order: list[str], refusals: int, sent_or_edited: int,
           spread_s: float) -> None:
    verdict = [a.verdict - a.sent for a in answers if a.verdict is not None]
    details = [a.details - a.sent for a in answers if a.details is not None]
    marked = [a for a in answers if a.mark is not None]
    lost = sum(a.verdict is None or a.details is None for a in answers)
    print(f"{platform}: {len(answers)} answers from 3 players in {spread_s:.0f} s (code {CODE})")
    print(f"  verdict visible  p50 {_pct(verdict, .5):5.2f} s  p95 {_pct(verdict, .95):5.2f} s  "
          f"max {max(verdict, default=float('nan')):5.2f} s   ({len(marked)} by a mark)")
    print(f"  details visible  p50 {_pct(details, .5):5.2f} s  p95 {_pct(details, .95):5.2f} s  "
          f"max {max(details, default=float('nan')):5.2f} s")
    marks_in_order = mark_order == [a.message_id for a in marked] and len(marked) in (0, len(answers))
    print(f"  order kept: marks {'yes' if marks_in_order and marked else 'no marks' if not marked else 'NO'}, "
          f"verdicts {'yes' if _in_order([a.verdict for a in answers]) else 'NO'}, "
          f"details {'yes' if _in_order([a.details for a in answers]) else 'NO'}")
    print(f"  lost {lost}   429s {refusals}   bot messages sent or edited {sent_or_edited}")


async def _until(predicate: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _answers(lines: list[str], times: list[float]) -> list[Answer]:
    return [Answer(line, lines[: i + 1].count(line), at) for i, (line, at) in enumerate(zip(lines, times, strict=True))]


async def telegram(args: argparse.Namespace, url: str) -> None:
    async with FakeTelegram() as fake:
        fake.group_limit, fake.global_limit = (20, 60.0), (30, 1.0)
        fake.latency_s = args.latency_ms / 1000
        settings = BotSettings(_env_file=None, line_index=None, telegram_token=fake.token,  # type: ignore[call-arg]
                               telegram_base_url=fake.base_url, telegram_poll_timeout_s=1)
        service = PoemService(connect(url), QueueSettings())
        core = ChatCore(service, settings, bot_username="poetbot")
        bot = TelegramBot(core, settings)
        await bot.start()
        players = [(7001, "张三"), (7002, "李四"), (7003, "王五")]
        try:
            await fake.user_says(GROUP, "/fhl 月", user_id=7001, username="张三")
            await _until(lambda: len(fake.chat(GROUP)) >= 1, 30)
            lines = plan([r.text for r in core.games.index.with_char("月", lengths=(5, 7), limit=args.answers * 2)],
                         args.answers)
            t0, sent, ids = time.monotonic(), [], []
            for i, line in enumerate(lines):
                await asyncio.sleep(max(0.0, t0 + i * args.spread_s / args.answers - time.monotonic()))
                user, name = players[i % 3]
                sent.append(time.monotonic())
                ids.append(await fake.user_says(GROUP, f"/a {line}", user_id=user, username=name))
            answers = _answers(lines, sent)
            for a, mid in zip(answers, ids, strict=True):
                a.message_id = str(mid)

            def account() -> bool:
                for a in answers:
                    a.mark = next((r.at for r in fake.reactions if r.chat_id == GROUP and str(r.message_id) == a.message_id
                                   and r.emoji), None)
                _details(answers, [(at, str(m.message_id), text) for m in fake.chat(GROUP) for at, text in m.versions])
                return all(a.details is not None for a in answers)

            await _until(account, args.timeout_s)
            await asyncio.sleep(args.settle_s)
            account()
        finally:
            await bot.stop()
            service.connection.close()
    order = [str(r.message_id) for r in fake.reactions if r.chat_id == GROUP and r.emoji]
    edits = len(fake.method_calls("editMessageText"))
    report("Telegram", answers, order, fake.flood_refusals, len(fake.chat(GROUP)) + edits, args.spread_s)


async def discord_burst(args: argparse.Namespace, url: str) -> None:
    async with FakeDiscord() as fake:
        fake.rate_limits = {"channel": (5, 5.0), "edit": (5, 5.0), "reaction": (1, 0.25)}
        fake.latency_s = args.latency_ms / 1000
        settings = BotSettings(_env_file=None, line_index=None)  # type: ignore[call-arg]
        service = PoemService(connect(url), QueueSettings())
        core = ChatCore(service, settings)
        discord_settings = DiscordSettings(_env_file=None, token=fake.token, api_base=fake.api_base,  # type: ignore[call-arg]
                                           gateway_url=fake.gateway_url)
        task = asyncio.create_task(run_discord(core, discord_settings, None))
        players = [str(7001 + i) for i in range(3)]
        channel = f"/channels/{fake.channel_id}/messages"
        try:
            await fake.wait_for(lambda: fake.connected or task.done())
            await fake.send_message("!fhl 月", user_id=players[0])
            await _until(lambda: bool(fake.channel_messages()), 30)
            lines = plan([r.text for r in core.games.index.with_char("月", lengths=(5, 7), limit=args.answers * 2)],
                         args.answers)
            t0, sent, ids = time.monotonic(), [], []
            for i, line in enumerate(lines):
                await asyncio.sleep(max(0.0, t0 + i * args.spread_s / args.answers - time.monotonic()))
                sent.append(time.monotonic())
                ids.append((await fake.send_message(f"!a {line}", user_id=players[i % 3]))["id"])
            answers = _answers(lines, sent)
            for a, mid in zip(answers, ids, strict=True):
                a.message_id = mid

            def account() -> bool:
                for a in answers:
                    a.mark = next((r.at for r in fake.reactions if r.message_id == a.message_id), None)
                posts = [(c.at, str(c.made), c.body.get("content", "")) for c in fake.calls
                         if c.method == "POST" and c.path == channel and c.status == 200 and not c.duplicate]
                edits = [(c.at, c.path.rsplit("/", 1)[1], (c.body or {}).get("content", "")) for c in fake.calls
                         if c.method == "PATCH" and c.path.startswith(channel + "/") and c.status == 200]
                _details(answers, posts + edits)
                return all(a.details is not None for a in answers)

            await _until(account, args.timeout_s)
            await asyncio.sleep(args.settle_s)
            account()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
            await settle_discord_tasks()
            service.connection.close()
    order = [r.message_id for r in fake.reactions]
    sent_or_edited = len(fake.channel_messages()) + len(fake.edits)
    report("Discord", answers, order, fake.refusals, sent_or_edited, args.spread_s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", default=str(ROOT), help="checkout whose bots run (default: this one)")
    parser.add_argument("--answers", type=int, default=20)
    parser.add_argument("--spread-s", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=1, help="runs per platform, each on a fresh server and Redis")
    parser.add_argument("--platform", choices=("telegram", "discord", "both"), default="both")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to each API call of the fake servers")
    parser.add_argument("--timeout-s", type=float, default=120.0)
    parser.add_argument("--settle-s", type=float, default=2.0, help="wait after the last verdict, for late doubles")
    args = parser.parse_args()
    runs = [telegram] if args.platform == "telegram" else [discord_burst] if args.platform == "discord" else [
        telegram, discord_burst]
    for run in runs:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                redis = RedisServer(Path(tmp) / "redis", appendonly=False).start()
                try:
                    asyncio.run(run(args, redis.url))
                finally:
                    redis.stop()


if __name__ == "__main__":
    main()
