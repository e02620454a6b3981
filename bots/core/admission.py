"""Group admission: admit only what a group can be answered, and tell everyone else at once.

A group takes a limited number of bot messages (Telegram: about 20 a minute per group; Discord:
5 per 5 s per channel). Admitting more poem requests than that only builds a backlog the platform
will never let through, and its requesters hear nothing for minutes. So a group's admission budget
is its send budget for the window, less what is already spoken for in that window:

- the "正在作诗…" placeholders and the one "group busy" notice (`ChatCore._placeholder_mode`),
- the games' messages (`GameStore.count_sent`),
- the refusal notices this module sends (one per group per ``notice_window_s``).

Requests past it are refused. In a group, refusals are not answered one by one (that would spend the
very budget that ran out): the requester's name joins the group's pending notice, and one message
per group per notice window names them all ("busy, try again in N min"), driven by the chat clock.
The first notice of a quiet group goes out within ``NOTICE_BATCH_S``, so nobody waits long for a
first word. Private chats keep their own limits (the bot-wide 30 messages a second is far away).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass

import redis

from bots.core import keys
from bots.core.messages import t
from bots.core.models import OutgoingMessage
from bots.core.settings import BotSettings

__all__ = ["DISCORD_CHANNEL_RATE", "NOTICE_BATCH_S", "BusyNotices", "GroupBudget", "group_pace", "group_send_budget"]

DISCORD_CHANNEL_RATE = (5, 5.0)
"""(messages, seconds) Discord lets a bot send to one channel."""

NOTICE_BATCH_S = 2.0
"""A quiet group's first refusal waits this long for others to share its notice."""

_TAKE_DUE = """
-- KEYS: due zset; ARGV: now (s), limit, sent-mark key prefix, sent-mark ttl (s).
-- Takes each due group's names once, whatever the process, and marks the group's notice as sent.
local out = {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))) do
  redis.call('ZREM', KEYS[1], member)
  local names_key = KEYS[1] .. ':' .. member
  local fields = redis.call('HGETALL', names_key)
  redis.call('DEL', names_key)
  if #fields > 0 then
    redis.call('SET', ARGV[3] .. member, ARGV[1], 'EX', tonumber(ARGV[4]))
    table.insert(out, member)
    table.insert(out, cjson.encode(fields))
  end
end
return out
"""


def group_pace(platform: str, settings: BotSettings) -> tuple[float, float] | None:
    """(messages, seconds) the platform lets a bot send one group; None: no per-group limit.

    Telegram's is the rate the bot's own limiter paces groups at (``telegram_group_rate`` per
    ``telegram_group_period_s``, 20 a minute by default), so admission and sending agree.
    """
    if platform == "telegram":
        return settings.telegram_group_rate, settings.telegram_group_period_s
    if platform == "discord":
        return DISCORD_CHANNEL_RATE
    return None


def group_send_budget(platform: str, window_s: float, settings: BotSettings) -> int | None:
    """Messages the platform lets a bot send to one group in ``window_s``; None: no per-group limit."""
    pace = group_pace(platform, settings)
    if pace is None:
        return None
    messages, seconds = pace
    return math.floor(messages * window_s / seconds)


@dataclass(frozen=True)
class GroupBudget:
    """How many poem requests a group may have admitted in the admission window right now."""

    send_budget: int  # messages the platform takes in the window
    spoken_for: int  # placeholders, busy notices, game messages, refusal notices in the window
    retry_after_s: int  # when the window frees up, for a refusal decided here

    @property
    def admissible(self) -> int:
        return max(0, self.send_budget - self.spoken_for)


class BusyNotices:
    """Per-group pending refusal notices in Redis, taken exactly once by whichever bot process ticks."""

    def __init__(self, connection: redis.Redis, notice_window_s: int) -> None:
        self.connection = connection
        self.notice_window_s = notice_window_s
        self._take = connection.register_script(_TAKE_DUE)

    def notices_per(self, window_s: int) -> int:
        """Notices a group may get in ``window_s``: what admission keeps free for them."""
        return math.ceil(window_s / self.notice_window_s)

    def _add(self, platform: str, chat_id: str, name: str, retry_after_s: int, locale: str | None) -> None:
        due_key = keys.busy_notices_due(platform)
        names_key = f"{due_key}:{chat_id}"
        now = time.time()  # due times are wall-clock: every bot process must read them alike
        last = self.connection.get(keys.busy_notice_sent(platform, chat_id))
        due = max(now + NOTICE_BATCH_S, float(last) + self.notice_window_s if last else 0.0)
        with self.connection.pipeline() as pipe:
            pipe.hset(names_key, f"name:{name}", max(1, int(retry_after_s)))
            pipe.hsetnx(names_key, "locale", locale or "zh")
            pipe.expire(names_key, 3600)
            pipe.zadd(due_key, {chat_id: due}, nx=True)  # a pending notice keeps its time
            pipe.execute()

    async def add(self, platform: str, chat_id: str, name: str, retry_after_s: int, locale: str | None) -> None:
        """``name`` was refused in this group: say so in the group's next notice."""
        await asyncio.to_thread(self._add, platform, chat_id, name, retry_after_s, locale)

    def _due(self, platform: str, limit: int, now: float | None) -> list[OutgoingMessage]:
        now = time.time() if now is None else now
        raw = self._take(keys=[keys.busy_notices_due(platform)],
                         args=[now, limit, keys.busy_notice_sent(platform, ""), self.notice_window_s * 2])
        out: list[OutgoingMessage] = []
        for member, encoded in zip(raw[::2], raw[1::2], strict=True):
            chat_id = member.decode() if isinstance(member, bytes) else str(member)
            flat = json.loads(encoded)
            fields = dict(zip(flat[::2], flat[1::2], strict=True))
            names = {k.removeprefix("name:"): int(v) for k, v in fields.items() if k.startswith("name:")}
            if not names:
                continue
            locale = fields.get("locale")
            minutes = max(1, math.ceil(max(names.values()) / 60))
            sep = "、" if (locale or "zh").startswith("zh") else ", "
            text = t("group_refused", locale, names=sep.join(sorted(names)), minutes=minutes)
            out.append(OutgoingMessage(chat_id=chat_id, text=text))
        return out

    async def due(self, platform: str, limit: int = 100, now: float | None = None) -> list[OutgoingMessage]:
        """The notices whose time has come (by ``now``, default the clock), each taken by exactly one caller."""
        return await asyncio.to_thread(self._due, platform, limit, now)
