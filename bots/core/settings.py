"""The bots' sections of the settings tree, and the root ``poetbot serve`` / ``poetbot demo`` build.

``BotSettings`` holds chat behaviour and Telegram (tokens under their conventional bare names,
``TELEGRAM_TOKEN``, ``TELEGRAM_BASE_URL``; the rest ``POETBOT_*``); ``DiscordSettings`` holds every
Discord setting, token and prefix included (``DISCORD_*``). `load_bot_config` rejects keys no
component knows (`poetcore.settings.check_unknown_keys`) before building anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bots.core.commands import Limits
from poetcore.prosody.forms import get_form
from poetcore.request import MAX_TOPIC_CHARS
from poetcore.settings import load_sections
from worker.contract.settings import QueueSettings

__all__ = ["BotConfig", "BotSettings", "DiscordSettings", "load_bot_config"]

TELEGRAM_API = "https://api.telegram.org/bot"


def _alias(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class BotSettings(BaseSettings):
    """Chat behaviour and Telegram; the queue is ``QueueSettings``, Discord is ``DiscordSettings``."""

    model_config = SettingsConfigDict(
        env_prefix="POETBOT_",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
        hide_input_in_errors=True,  # tokens and webhook secrets never appear in a validation error
    )

    # --- chat behaviour ----------------------------------------------------------------------
    default_form: str = Field(default="七绝", description="form for /poem without one")
    max_message_chars: int = Field(default=300, ge=20, le=4000, description="longer messages are refused")
    max_topic_chars: int = Field(
        default=MAX_TOPIC_CHARS, ge=1, le=MAX_TOPIC_CHARS, description="Han characters in a topic (≤ the composer's limit)"
    )
    candidates: int | None = Field(default=None, ge=1, le=32, description="samples per poem; None -> worker default")
    placeholder_ttl_s: int = Field(default=86400, ge=60, description="how long a placeholder's id is kept for editing")
    placeholder_wait_s: float = Field(
        default=5.0, gt=0, le=60, description="a poem faster than its placeholder waits this long for it"
    )
    group_placeholder_limit: int = Field(
        default=5, ge=0, le=1000,
        description="placeholders per group per window; past it the bot says once that it is busy and "
                    "each poem just replies to its request (0: a placeholder for every request)",
    )
    group_placeholder_window_s: int = Field(
        default=60, ge=1, le=3600, description="the window group_placeholder_limit counts in"
    )

    group_notice_window_s: int = Field(
        default=20, ge=5, le=600,
        description="one combined \"busy, try again\" notice per group per this window names every refused requester",
    )

    # --- games -------------------------------------------------------------------------------
    line_index: Path | None = Field(
        default=Path("data/lines.sqlite"),
        description="the games' line index (poetcore data lines); missing -> the built-in one, with a log line",
    )
    game_timeout_s: int = Field(default=60, ge=2, le=600, description="a 飞花令 round ends this long after the last line")
    game_warning_s: int = Field(default=15, ge=1, le=120, description="the countdown warning comes this long before the end")
    game_chat_limit: int = Field(
        default=10, ge=1, le=100,
        description="game messages per group per window before verdicts (marked at once) go on the verdict board",
    )
    game_chat_window_s: int = Field(default=60, ge=1, le=3600)
    game_flush_s: float = Field(default=4.0, gt=0, le=60, description="a busy group's verdict board is edited at most this often")
    game_easy_rank: int = Field(default=3000, ge=10, description="the easy bot knows only this many most famous lines")
    jieju_timeout_s: int = Field(default=40, ge=2, le=600, description="time per 接句 question; hints come through it")
    cai_timeout_s: int = Field(default=180, ge=2, le=3600, description="a 猜诗句 game ends this long after the last guess")

    # --- poem cards --------------------------------------------------------------------------
    card_font: Path | None = Field(
        default=None,
        description="a CJK TTF/OTF font for /card pictures; None: Noto Serif SC from the cards extra "
                    "(missing -> /card answers with text, with a log line)",
    )

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
    telegram_overall_rate: float = Field(default=30, gt=0, description="messages per second, all chats (Bot API limit)")
    telegram_group_rate: float = Field(default=20, gt=0, description="messages per group per telegram_group_period_s")
    telegram_group_period_s: float = Field(default=60, gt=0)
    telegram_concurrent_updates: int = Field(
        default=64, ge=1, le=1024, description="updates handled at once (one at a time per chat)"
    )
    telegram_max_flood_wait_s: float = Field(
        default=900, gt=0, description="longest total wait on 429 retry_after before a send counts as failed"
    )
    telegram_retry_first_s: float = Field(
        default=0.5, gt=0, description="first wait before trying an unreachable Bot API again (then doubling)"
    )
    telegram_retry_max_s: float = Field(
        default=10, gt=0, description="cap of that back-off (each wait jittered in its upper half)"
    )

    # --- demo --------------------------------------------------------------------------------
    demo_timeout_s: float = Field(default=300.0, gt=0, description="piped demo gives up waiting after this")

    @field_validator("default_form")
    @classmethod
    def _known_form(cls, value: str) -> str:
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


class DiscordSettings(BaseSettings):
    """Everything the Discord bot needs; built once at the entry point and passed in."""

    # "ignore" here: unknown keys are rejected for the whole tree by load_bot_config.
    model_config = SettingsConfigDict(
        env_prefix="DISCORD_", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    token: SecretStr | None = None
    """Bot token from the Developer Portal (Bot -> Reset Token). ``DISCORD_TOKEN``."""
    prefix: str = "!"
    """Prefix for text commands such as ``!poem 秋月 七绝``."""
    message_content: bool = True
    """Ask for the privileged message-content intent; prefix commands in servers need it. When off,
    only slash commands, DMs and messages that @mention the bot work."""
    sync_commands: bool = True
    """Upload the slash-command definitions at start (a bulk overwrite, so it is idempotent)."""
    followup_window_s: float = Field(default=14 * 60, gt=0, le=15 * 60)
    """Deliver late results as interaction follow-ups only while the interaction is younger than
    this; Discord's interaction token lives 15 minutes, so older results go to the channel."""
    api_base: str | None = None
    """REST base URL override (default ``https://discord.com/api/v10``), for proxies and tests."""
    gateway_url: str | None = None
    """Gateway websocket URL override (default ``wss://gateway.discord.gg/``), for proxies and tests."""

    @field_validator("prefix")
    @classmethod
    def _prefix_is_short(cls, value: str) -> str:
        if not value.strip() or len(value) > 5 or any(ch.isspace() for ch in value):
            raise ValueError(f"DISCORD_PREFIX must be 1-5 non-space characters such as '!', got {value!r}")
        return value

    @property
    def token_value(self) -> str | None:
        """The real token; never log this."""
        return self.token.get_secret_value() if self.token else None


@dataclass(frozen=True)
class BotConfig:
    """The root of ``poetbot serve`` / ``poetbot demo``'s settings tree."""

    queue: QueueSettings
    bot: BotSettings
    discord: DiscordSettings


def load_bot_config(
    env_file: str | Path | None = None,
    *,
    queue: dict[str, Any] | None = None,
    bot: dict[str, Any] | None = None,
    discord: dict[str, Any] | None = None,
) -> BotConfig:
    """Check every key, then build the sections (CLI overrides per section win)."""
    return BotConfig(**load_sections(env_file, {
        "queue": (QueueSettings, queue), "bot": (BotSettings, bot), "discord": (DiscordSettings, discord),
    }))
