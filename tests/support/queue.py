"""Builders shared by the queue tests: settings without limits, a request, the replies on a stream."""

from __future__ import annotations

from typing import Any

import redis

from support.settings import make_worker_config
from worker.contract import keys
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.settings import QueueSettings
from worker.settings import WorkerConfig


def worker_config(**overrides: Any) -> WorkerConfig:
    """Noop composer, no rate limits, no back-off: each test turns on only what it exercises."""
    base: dict[str, Any] = {"composer": "noop", "log_format": "text", "user_limit": 0, "chat_limit": 0,
                            "retry_intervals_s": [0, 0], "reply_block_ms": 2000, "reply_claim_idle_ms": 30000,
                            "job_modules": ["worker.jobs", "support.jobs"]}  # fault-injection jobs
    base.update(overrides)
    return make_worker_config(**base)


def queue_settings(**overrides: Any) -> QueueSettings:
    """The queue section of `worker_config`."""
    return worker_config(**overrides).queue


def make_request(**kw: object) -> PoemRequest:
    base: dict[str, object] = {"platform": "telegram", "chat_id": "c", "user_id": "u", "topic": "春雨"}
    base.update(kw)
    return PoemRequest.model_validate(base)


def stream_replies(client: redis.Redis, platform: str = "telegram") -> list[PoemReply]:
    return [PoemReply.from_json(f[b"reply"]) for _id, f in client.xrange(keys.reply_stream(platform))]
