"""Game state in Redis: the running game per chat, its clock, held-back messages, leaderboards.

Everything is sync redis-py (the service runs a whole move in one worker thread, under the chat's
lock). Keys live in `bots.core.keys`. A restarted bot finds the game and its deadline here,
and the deadline fires exactly once because firing it means winning ``ZREM`` on the timer set.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

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

    # ----------------------------------------------------------------- flood control
    def count_sent(self, platform: str, chat_id: str, window_s: int) -> int:
        key = keys.game_sent(platform, chat_id)
        with self.connection.pipeline() as pipe:
            pipe.set(key, 0, ex=window_s, nx=True)
            pipe.incr(key)
            _, count = pipe.execute()
        return int(count)

    def hold(self, platform: str, chat_id: str, text: str, flush_at: float) -> None:
        with self.connection.pipeline() as pipe:
            pipe.rpush(keys.game_outbox(platform, chat_id), text)
            pipe.expire(keys.game_outbox(platform, chat_id), 3600)
            pipe.zadd(keys.game_flush(platform), {chat_id: flush_at}, nx=True)
            pipe.execute()

    def take_held(self, platform: str, now: float) -> dict[str, list[str]]:
        """Held-back messages that are due, per chat; each batch is taken by exactly one caller."""
        out: dict[str, list[str]] = {}
        for raw in self.connection.zrangebyscore(keys.game_flush(platform), "-inf", now):
            chat_id = _text(raw)
            if not self.connection.zrem(keys.game_flush(platform), chat_id):
                continue  # another bot process took it
            with self.connection.pipeline() as pipe:  # MULTI: read and clear together
                pipe.lrange(keys.game_outbox(platform, chat_id), 0, -1)
                pipe.delete(keys.game_outbox(platform, chat_id))
                items, _ = pipe.execute()
            if items:
                out[chat_id] = [_text(i) for i in items]
        return out

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
                previous = int(best.get(f"{pid}:best".encode(), b"0") or 0)
                if int(p["score"]) > previous:
                    pipe.hset(stats, f"{pid}:best", int(p["score"]))
            pipe.execute()

    def board(self, platform: str, chat_id: str, period: str, top: int = 10) -> list[tuple[str, int, int, int]]:
        """(name, points, lines, best game) of the top players."""
        rows = self.connection.zrevrange(keys.game_rank(platform, chat_id, period), 0, top - 1, withscores=True)
        if not rows:
            return []
        stats = {_text(k): _text(v) for k, v in self.connection.hgetall(keys.game_stats(platform, chat_id)).items()}
        out = []
        for raw, score in rows:  # type: ignore[misc,str-unpack]  # withscores: (member, score) pairs
            pid = _text(raw)
            out.append((stats.get(f"{pid}:name", pid), int(score), int(stats.get(f"{pid}:lines", 0)),
                        int(stats.get(f"{pid}:best", 0))))
        return sorted(out, key=lambda r: (-r[1], -r[2], r[0]))  # ties: more lines, then name (as the scoreboard)
