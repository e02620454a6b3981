"""``QueueSettings``: the section of the settings tree both sides of the queue read.

Redis, the queue, admission limits, the reply streams and liveness: everything a bot and a worker
must agree on. Variables carry the ``POETCORE_`` prefix, except ``REDIS_URL`` which is also
accepted bare because every hosting platform sets it that way. Unknown keys are rejected for the
whole tree by `poetcore.settings.check_unknown_keys`, not here: the env file is shared.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

JOB_FUNCTION = "worker.jobs.compose_poem"


def redact_url(url: str | None) -> str:
    """``redis://user:secret@host:6379/0`` -> ``redis://user:***@host:6379/0`` (safe to log)."""
    if not url:
        return "<embedded>"
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


class QueueSettings(BaseSettings):
    """Everything the queue, its workers and its reply streams share; defaults suit one machine."""

    model_config = SettingsConfigDict(
        env_prefix="POETCORE_",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
        hide_input_in_errors=True,  # a bad REDIS_URL must not be echoed with its password
    )

    # --- Redis -------------------------------------------------------------------------------
    redis_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "POETCORE_REDIS_URL"),
        description="redis://, rediss:// or unix:// URL; unset -> embedded redis-server under data_dir",
    )
    data_dir: Path = Field(default=Path("data"), description="embedded Redis keeps its AOF under data_dir/redis")

    # --- jobs --------------------------------------------------------------------------------
    queue: str = Field(default="poems", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    job_timeout_s: int = Field(default=120, ge=1, description="a job running longer is killed and retried")
    result_ttl_s: int = Field(default=3600, ge=1)
    failure_ttl_s: int = Field(default=86400, ge=1)
    retry_max: int = Field(default=2, ge=0, description="retries after an unexpected exception or timeout")
    retry_intervals_s: list[int] = Field(default=[2, 10], description="back-off between retries")
    crash_retries: int = Field(default=2, ge=0, description="requeues after the worker running a job died")
    request_ttl_s: int = Field(default=86400, ge=60, description="how long a request id stays known (dedupe)")

    # --- admission ---------------------------------------------------------------------------
    max_queue_length: int = Field(default=200, ge=1, description="waiting jobs beyond this -> 'busy'")
    user_limit: int = Field(default=5, ge=0, description="requests per user per window; 0 disables")
    user_window_s: int = Field(default=60, ge=1)
    chat_limit: int = Field(default=30, ge=0, description="requests per chat per window; 0 disables")
    chat_window_s: int = Field(default=60, ge=1)

    # --- replies -----------------------------------------------------------------------------
    reply_stream_maxlen: int = Field(default=10000, ge=100)
    reply_group: str = Field(default="bots", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    reply_claim_idle_ms: int = Field(default=30000, ge=10, description="pending this long -> claimable")
    reply_block_ms: int = Field(default=2000, ge=10)
    reply_max_attempts: int = Field(default=5, ge=1, description="send attempts before a reply is dropped")

    consumer_name: str | None = Field(
        default=None,
        description="reply-stream consumer name; None -> <hostname>-<platform> (two bots on one host: set it)",
    )

    # --- liveness and observability ------------------------------------------------------------
    liveness_ttl_s: float = Field(default=5.0, gt=0, description="a silent worker is dead after this")
    heartbeat_interval_s: float = Field(default=1.0, gt=0)
    stall_margin_s: float = Field(
        default=60.0, gt=0, description="a job busy for job_timeout_s plus this is stuck: /livez fails, beats stop")
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

    @field_validator("retry_intervals_s")
    @classmethod
    def _positive_intervals(cls, value: list[int]) -> list[int]:
        if any(v < 0 for v in value):
            raise ValueError(f"retry intervals must be >= 0 seconds, got {value}")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        scheme = urlsplit(value.get_secret_value()).scheme
        if scheme not in {"redis", "rediss", "unix"}:
            raise ValueError(
                f"REDIS_URL must start with redis://, rediss:// or unix://, got scheme {scheme!r}; "
                "unset it to use the embedded server"
            )
        return value

    @model_validator(mode="after")
    def _liveness_outlasts_heartbeat(self) -> QueueSettings:
        if self.liveness_ttl_s <= self.heartbeat_interval_s:
            raise ValueError(
                f"liveness_ttl_s ({self.liveness_ttl_s}) must exceed heartbeat_interval_s "
                f"({self.heartbeat_interval_s}), or live workers would look dead"
            )
        return self

    def consumer_for(self, platform: str) -> str:
        """Stable per host, so a restarted pod re-reads its own pending entries."""
        return self.consumer_name or f"{socket.gethostname()}-{platform}"

    @property
    def redis_url_value(self) -> str | None:
        """The real URL (with password) for connecting; never log this."""
        return self.redis_url.get_secret_value() if self.redis_url else None

    @property
    def redis_url_redacted(self) -> str:
        return redact_url(self.redis_url_value)

    def __repr_args__(self) -> Any:
        # SecretStr already hides the URL; this keeps the host visible for debugging.
        for name, value in super().__repr_args__():
            yield name, (self.redis_url_redacted if name == "redis_url" and value is not None else value)

__all__ = [
    "JOB_FUNCTION",
    "QueueSettings",
    "redact_url",
]
