"""Bot settings: platform tokens, webhook options and chat behaviour, from env vars and the env file.

Built once at the entry point (``poetbot serve`` / ``poetbot demo``) and passed into constructors.
Tokens are read under their conventional bare names (``TELEGRAM_TOKEN``, ``DISCORD_TOKEN``,
``TELEGRAM_BASE_URL``); everything else carries the ``POETBOT_`` prefix. The env file is the one
the queue settings read (``$POETCORE_ENV_FILE`` or ``./poetcore.env``), so keys for other
components are ignored there, while values this model knows are validated strictly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bots.core.commands import Limits

__all__ = ["BotSettings", "load_bot_settings"]

TELEGRAM_API = "https://api.telegram.org/bot"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class BotSettings(BaseSettings):
    """Everything the chat front-ends need; the queue itself is configured by ``QueueSettings``."""

    model_config = SettingsConfigDict(
        env_prefix="POETBOT_",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
    )

    # --- chat behaviour ----------------------------------------------------------------------
    default_form: str = Field(default="七绝", description="form for /poem without one")
    max_message_chars: int = Field(default=300, ge=20, le=4000, description="longer messages are refused")
    max_topic_chars: int = Field(default=12, ge=1, le=12, description="Han characters in a topic (≤ poetcore's 12)")
    candidates: int | None = Field(default=None, ge=1, le=32, description="samples per poem; None -> worker default")
    ack_ttl_s: int = Field(default=86400, ge=60, description="how long an ack message id is kept for editing")
    delivery_retry_s: float = Field(default=2.0, gt=0, description="pause before re-sending a failed reply")

    # --- Telegram ----------------------------------------------------------------------------
    telegram_token: SecretStr | None = Field(default=None, validation_alias=_alias("TELEGRAM_TOKEN", "POETBOT_TELEGRAM_TOKEN"))
    telegram_base_url: str = Field(
        default=TELEGRAM_API,
        validation_alias=_alias("TELEGRAM_BASE_URL", "POETBOT_TELEGRAM_BASE_URL"),
        description="Bot API base; a self-hosted server is e.g. http://localhost:8081/bot",
    )
    telegram_mode: Literal["polling", "webhook"] = Field(
        default="polling", validation_alias=_alias("TELEGRAM_MODE", "POETBOT_TELEGRAM_MODE")
    )
    telegram_webhook_url: str | None = Field(
        default=None,
        validation_alias=_alias("TELEGRAM_WEBHOOK_URL", "POETBOT_TELEGRAM_WEBHOOK_URL"),
        description="public HTTPS URL Telegram posts updates to (webhook mode)",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=_alias("TELEGRAM_WEBHOOK_SECRET", "POETBOT_TELEGRAM_WEBHOOK_SECRET"),
        description="X-Telegram-Bot-Api-Secret-Token; 1-256 chars of A-Z a-z 0-9 _ -",
    )
    telegram_webhook_listen: str = Field(default="0.0.0.0", description="address the webhook server binds")
    telegram_webhook_port: int = Field(default=8443, ge=0, le=65535)
    telegram_webhook_path: str = Field(default="telegram", description="URL path the webhook server serves")
    telegram_poll_timeout_s: int = Field(default=30, ge=0, le=60, description="getUpdates long-poll timeout")

    # --- Discord (used by bots.discord) ------------------------------------------------------
    discord_token: SecretStr | None = Field(default=None, validation_alias=_alias("DISCORD_TOKEN", "POETBOT_DISCORD_TOKEN"))
    discord_prefix: str = Field(default="!", min_length=1, max_length=3, description="prefix for !poem commands")

    # --- demo --------------------------------------------------------------------------------
    demo_timeout_s: float = Field(default=300.0, gt=0, description="piped demo gives up waiting after this")

    @field_validator("default_form")
    @classmethod
    def _known_form(cls, value: str) -> str:
        from poetcore.forms import get_form

        return get_form(value).name  # UnknownFormError lists the supported forms

    @field_validator("telegram_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"TELEGRAM_BASE_URL must start with http:// or https://, got {value!r}")
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> BotSettings:
        if self.telegram_mode == "webhook" and self.telegram_token and not self.telegram_webhook_url:
            raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL (the public HTTPS URL)")
        secret = self.telegram_webhook_secret.get_secret_value() if self.telegram_webhook_secret else ""
        if secret and not all(c.isascii() and (c.isalnum() or c in "_-") for c in secret):
            raise ValueError("TELEGRAM_WEBHOOK_SECRET may only contain A-Z, a-z, 0-9, _ and -")
        return self

    @property
    def limits(self) -> Limits:
        return Limits(max_message_chars=self.max_message_chars, max_topic_chars=self.max_topic_chars)

    @property
    def telegram_token_value(self) -> str | None:
        """The real token; never log this."""
        return self.telegram_token.get_secret_value() if self.telegram_token else None

    @property
    def discord_token_value(self) -> str | None:
        return self.discord_token.get_secret_value() if self.discord_token else None


def load_bot_settings(env_file: str | Path | None = None, **overrides: Any) -> BotSettings:
    """Settings from env + the shared env file, with explicit overrides (CLI options) winning."""
    from worker.settings import env_file_path

    clean = {k: v for k, v in overrides.items() if v is not None}
    return BotSettings(_env_file=env_file_path(env_file), **clean)  # type: ignore[call-arg]
