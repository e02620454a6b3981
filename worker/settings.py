"""The worker's settings: its own section plus the engine and queue sections, built once by the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from poetcore.settings import EngineSettings, load_sections
from worker.contract.settings import QueueSettings


class WorkerSettings(BaseSettings):
    """What only a worker process reads: how it serves jobs."""

    model_config = SettingsConfigDict(env_prefix="POETCORE_", extra="ignore", validate_default=True)

    composer: Literal["real", "noop"] = Field(default="real", description="noop: queue benchmark only")
    noop_delay_ms: int = Field(default=0, ge=0, description="simulated compute of the noop composer")
    max_batch: int = Field(default=8, ge=1, le=64, description="waiting requests served by one generate() call "
                           "(measured on CPU under load: 1.7x jobs/s and p50 6.2 s vs 9.8 s at 8 vs 1)")
    maintenance_interval_s: int = Field(default=30, ge=1, description="RQ's own registry cleaning")
    job_modules: list[str] = Field(
        default=["worker.jobs"],
        description="modules whose functions a worker runs; any other job (e.g. builtins.exec) is refused",
    )


@dataclass(frozen=True)
class WorkerConfig:
    """The root of ``poetbot worker``'s settings tree."""

    engine: EngineSettings
    queue: QueueSettings
    worker: WorkerSettings


def load_worker_config(
    env_file: str | Path | None = None,
    *,
    engine: dict[str, Any] | None = None,
    queue: dict[str, Any] | None = None,
    worker: dict[str, Any] | None = None,
) -> WorkerConfig:
    """Check every key, then build the three sections (CLI overrides per section win)."""
    return WorkerConfig(**load_sections(env_file, {
        "engine": (EngineSettings, engine), "queue": (QueueSettings, queue), "worker": (WorkerSettings, worker),
    }))


__all__ = ["WorkerConfig", "WorkerSettings", "load_worker_config"]
