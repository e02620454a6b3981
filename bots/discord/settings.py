"""Discord front-end settings, read from ``DISCORD_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from bots.core.settings import BotSettings

__all__ = ["DiscordSettings"]


class DiscordSettings(BaseSettings):
    """Everything the Discord bot needs; built once at the entry point and passed in."""

    # "ignore": the env file is shared with the queue and Telegram settings, whose keys are not ours.
    model_config = SettingsConfigDict(env_prefix="DISCORD_", env_file_encoding="utf-8", extra="ignore")

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

    @classmethod
    def from_bot_settings(cls, bot: BotSettings, env_file: str | Path | None = None,
                          **overrides: Any) -> DiscordSettings:
        """Token and prefix from the shared ``BotSettings``; the Discord-only knobs from ``DISCORD_*``
        in the environment or the shared env file (``env_file`` > ``$POETCORE_ENV_FILE`` > ./poetcore.env)."""
        from worker.settings import env_file_path

        values: dict[str, Any] = {"prefix": bot.discord_prefix}
        if bot.discord_token is not None:
            values["token"] = bot.discord_token
        return cls(_env_file=env_file_path(env_file), **(values | overrides))  # type: ignore[call-arg]
