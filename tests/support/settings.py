"""Settings builders for tests: every section from explicit values, never the developer's machine.

The root conftest's ``hermetic_settings`` fixture (autouse) already strips ``POETCORE_*``,
``POETBOT_*``, ``TELEGRAM_*``, ``DISCORD_*`` and ``REDIS_URL`` from the environment and points
``POETCORE_ENV_FILE`` at an empty file; these builders add ``_env_file=None`` on top.
"""

from __future__ import annotations

from typing import Any

from bots.core.settings import BotSettings, DiscordSettings
from poetcore.settings import EngineSettings
from worker.contract.settings import QueueSettings
from worker.settings import WorkerConfig, WorkerSettings

GOVERNED_ENV = ("POETCORE_", "POETBOT_", "TELEGRAM_", "DISCORD_")
BARE_ENV = ("REDIS_URL",)


def make_queue_settings(**overrides: Any) -> QueueSettings:
    base: dict[str, Any] = {"redis_url": None, "log_format": "text", "reply_block_ms": 100, "reply_claim_idle_ms": 500}
    return QueueSettings(_env_file=None, **{**base, **overrides})  # type: ignore[call-arg]


def make_bot_settings(**overrides: Any) -> BotSettings:
    """Games judge against the built-in index (shipped in the package), never a local full build."""
    return BotSettings(_env_file=None, **{"line_index": None, **overrides})  # type: ignore[call-arg]


def make_discord_settings(**overrides: Any) -> DiscordSettings:
    return DiscordSettings(_env_file=None, **overrides)  # type: ignore[call-arg]


def make_worker_config(queue_settings: QueueSettings | None = None, **overrides: Any) -> WorkerConfig:
    """A worker's settings tree; each keyword goes to the section that has it (max_batch -> worker,
    model -> engine, user_limit -> queue ...). ``queue_settings`` replaces the queue section whole."""
    sections: dict[str, dict[str, Any]] = {"engine": {}, "worker": {}, "queue": {}}
    for key, value in overrides.items():
        if key in EngineSettings.model_fields:
            sections["engine"][key] = value
        elif key in WorkerSettings.model_fields:
            sections["worker"][key] = value
        elif key in QueueSettings.model_fields:
            sections["queue"][key] = value
        else:
            raise TypeError(f"no section of the worker settings has {key!r}")
    return WorkerConfig(
        engine=EngineSettings(_env_file=None, **sections["engine"]),  # type: ignore[call-arg]
        queue=queue_settings or make_queue_settings(**sections["queue"]),
        worker=WorkerSettings(_env_file=None, **sections["worker"]),  # type: ignore[call-arg]
    )
