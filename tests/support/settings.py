"""Settings builders that ignore the developer's environment and env file (shared by bot tests)."""

from __future__ import annotations

from typing import Any

from bots.core.settings import BotSettings
from worker.settings import QueueSettings


def make_queue_settings(**overrides: Any) -> QueueSettings:
    """Queue settings that ignore the developer's environment and env file."""
    base: dict[str, Any] = {"redis_url": None, "log_format": "text", "reply_block_ms": 100, "reply_claim_idle_ms": 500}
    return QueueSettings(_env_file=None, **{**base, **overrides})


def make_bot_settings(**overrides: Any) -> BotSettings:
    return BotSettings(_env_file=None, **overrides)
