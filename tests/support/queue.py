"""Builders shared by the queue tests: settings without limits, a request, the replies on a stream."""

from __future__ import annotations

import redis

from worker import keys
from worker.protocol import PoemReply, PoemRequest
from worker.settings import QueueSettings


def queue_settings(**overrides: object) -> QueueSettings:
    """Noop composer, no rate limits, no back-off: each test turns on only what it exercises."""
    base: dict[str, object] = {"composer": "noop", "log_format": "text", "user_limit": 0, "chat_limit": 0,
                               "retry_intervals_s": [0, 0]}
    base.update(overrides)
    return QueueSettings(**base)


def make_request(**kw: object) -> PoemRequest:
    base: dict[str, object] = {"platform": "telegram", "chat_id": "c", "user_id": "u", "topic": "春雨"}
    base.update(kw)
    return PoemRequest.model_validate(base)


def stream_replies(client: redis.Redis, platform: str = "telegram") -> list[PoemReply]:
    return [PoemReply.from_json(f[b"reply"]) for _id, f in client.xrange(keys.reply_stream(platform))]
