"""Game state in Redis: the running game per chat, its clock, the verdict boards, leaderboards.

Everything is sync redis-py (the service runs a whole move in one worker thread, under the chat's
lock). Keys live in `bots.core.keys`. A restarted bot finds the game and its deadline here,
and the deadline fires exactly once because firing it means winning ``ZREM`` on the timer set.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import redis

from bots.core import keys
from bots.core.games.caishi import CaishiGame
from bots.core.games.feihua import FeihuaGame
from bots.core.games.jieju import JiejuGame
from bots.core.games.rules import BOT_PLAYER

__all__ = ["Game", "GameStore", "iso_week"]

Game = FeihuaGame | JiejuGame | CaishiGame
_KINDS: dict[str, type[FeihuaGame] | type[JiejuGame] | type[CaishiGame]] = {
    "fhl": FeihuaGame, "jieju": JiejuGame, "cai": CaishiGame,
}

WEEK_TTL_S = 15 * 86400


def iso_week(now: float) -> str:
    year, week, _ = datetime.fromtimestamp(now, UTC).isocalendar()
    return f"{year}-W{week:02d}"


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class GameStore:
    def __init__(self, connection: redis.Redis) -> None:
        self.connection = connection

    # ----------------------------------------------------------------- the game
    @contextmanager
    def locked(self, platform: str, chat_id: str) -> Iterator[None]:
        """One move at a time per chat, across processes (a lock that expires if its holder dies)."""
        with self.connection.lock(keys.game_lock(platform, chat_id), timeout=15, blocking_timeout=10):
            yield

    def load(self, platform: str, chat_id: str) -> Game | None:
        """The chat's running game, whatever its kind (one game per chat)."""
        raw = self.connection.get(keys.game(platform, chat_id))
        if not raw:
            return None
        data = json.loads(raw)
        return _KINDS.get(data.get("kind", "fhl"), FeihuaGame).from_dict(data)

    def running(self, platform: str, chat_id: str) -> bool:
        return bool(self.connection.exists(keys.game(platform, chat_id)))

    def save(self, platform: str, chat_id: str, game: Game, next_tick: float) -> None:
        ttl = max(60, int(game.deadline - time.time()) + 3600)
        with self.connection.pipeline() as pipe:
            pipe.set(keys.game(platform, chat_id), json.dumps(game.to_dict(), ensure_ascii=False), ex=ttl)
            pipe.zadd(keys.game_timers(platform), {chat_id: next_tick})
            pipe.execute()

    def finish(self, platform: str, chat_id: str) -> None:
        with self.connection.pipeline() as pipe:
            pipe.delete(keys.game(platform, chat_id))
            pipe.zrem(keys.game_timers(platform), chat_id)
            pipe.execute()

    def due(self, platform: str, now: float) -> list[str]:
        """Chats whose game clock has something to do by ``now``."""
        return [_text(c) for c in self.connection.zrangebyscore(keys.game_timers(platform), "-inf", now)]

    def board_message(self, platform: str, board_key: str) -> str | None:
        """The id of a board message the front-end sent (`BotStore.remember_board`), to edit it."""
        raw = self.connection.get(keys.game_board(platform, board_key))
        return _text(raw) if raw else None

    # ----------------------------------------------------------------- flood control (`outbox`)
    def count_sent(self, platform: str, chat_id: str, window_s: int) -> int:
        """Count one game message (a send or an edit) in the chat's window; returns the window's count."""
        key = keys.game_sent(platform, chat_id)
        with self.connection.pipeline() as pipe:
            pipe.set(key, 0, ex=window_s, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
        return int(count)

    def log_sent(self, platform: str, chat_id: str, at: float, keep_s: float) -> None:
        """Note that a game message went to the chat ``at``; the log keeps ``keep_s`` seconds of them."""
        key = keys.game_sent_log(platform, chat_id)
        with self.connection.pipeline() as pipe:
            pipe.zadd(key, {f"{at!r}:{secrets.token_hex(4)}": at})
            pipe.zremrangebyscore(key, "-inf", at - keep_s)
            pipe.expire(key, max(1, math.ceil(keep_s)))
            pipe.execute()

    def sent_times(self, platform: str, chat_id: str, since: float) -> list[float]:
        """When the chat's game messages since ``since`` went out, oldest first."""
        rows = self.connection.zrangebyscore(keys.game_sent_log(platform, chat_id), since, "+inf", withscores=True)
        return [float(score) for _member, score in rows]  # type: ignore[misc,union-attr,str-unpack]  # withscores: pairs

    def verdicts(self, platform: str, chat_id: str) -> dict[str, Any] | None:
        """The chat's verdict board (the caller holds the chat's lock to change it)."""
        raw = self.connection.get(keys.game_verdicts(platform, chat_id))
        return json.loads(raw) if raw else None

    def save_verdicts(self, platform: str, chat_id: str, board: dict[str, Any], ttl_s: int) -> None:
        self.connection.set(keys.game_verdicts(platform, chat_id), json.dumps(board, ensure_ascii=False),
                            ex=max(1, ttl_s))

    def flush_at(self, platform: str, chat_id: str, when: float) -> None:
        """Have the clock show the chat's waiting verdicts at ``when`` (kept if one is already due)."""
        self.connection.zadd(keys.game_flush(platform), {chat_id: when}, nx=True)

    def take_flushes(self, platform: str, now: float) -> list[str]:
        """Chats whose verdict board is due; each is taken by exactly one caller (whoever wins ZREM)."""
        due = [_text(c) for c in self.connection.zrangebyscore(keys.game_flush(platform), "-inf", now)]
        return [chat_id for chat_id in due if self.connection.zrem(keys.game_flush(platform), chat_id)]

    def timer(self, platform: str, chat_id: str) -> float | None:
        """When the chat's game next needs the clock (None: not scheduled)."""
        score = self.connection.zscore(keys.game_timers(platform), chat_id)
        return float(score) if score is not None else None

    # ----------------------------------------------------------------- leaderboards
    def record(self, platform: str, chat_id: str, game: Game, now: float) -> None:
        """Add a finished game's scores to the chat's all-time and weekly boards."""
        week = iso_week(now)
        stats = keys.game_stats(platform, chat_id)
        best = self.connection.hgetall(stats)
        with self.connection.pipeline() as pipe:
            for pid, p in game.players.items():
                if pid == BOT_PLAYER:
                    continue
                for period in ("all", week):
                    pipe.zincrby(keys.game_rank(platform, chat_id, period), int(p["score"]), pid)
                pipe.expire(keys.game_rank(platform, chat_id, week), WEEK_TTL_S)
                pipe.hset(stats, f"{pid}:name", p["name"])
                pipe.hincrby(stats, f"{pid}:lines", int(p["lines"]))
                pipe.hincrby(stats, f"{pid}:points:{game.kind}", int(p["score"]))
                previous = int(best.get(f"{pid}:best".encode(), b"0") or 0)
                if int(p["score"]) > previous:
                    pipe.hset(stats, f"{pid}:best", int(p["score"]))
            pipe.execute()

    def board(self, platform: str, chat_id: str, period: str,
              top: int = 10) -> list[tuple[str, int, int, int, dict[str, int]]]:
        """(name, points, lines, best game, all-time points per game kind) of the top players."""
        rows = self.connection.zrevrange(keys.game_rank(platform, chat_id, period), 0, top - 1, withscores=True)
        if not rows:
            return []
        stats = {_text(k): _text(v) for k, v in self.connection.hgetall(keys.game_stats(platform, chat_id)).items()}
        out = []
        for raw, score in rows:  # type: ignore[misc,str-unpack]  # withscores: (member, score) pairs
            pid = _text(raw)
            by_game = {field.rsplit(":", 1)[1]: int(value) for field, value in stats.items()
                       if field.startswith(f"{pid}:points:")}
            out.append((stats.get(f"{pid}:name", pid), int(score), int(stats.get(f"{pid}:lines", 0)),
                        int(stats.get(f"{pid}:best", 0)), by_game))
        return sorted(out, key=lambda r: (-r[1], -r[2], r[0]))  # ties: more lines, then name (as the scoreboard)
