"""Telegram front-end (python-telegram-bot 22): polling or webhook on the shared chat core.

Set-up (BotFather token, privacy mode, webhook vs polling, TELEGRAM_BASE_URL) is in docs/telegram.md.
"""

from bots.telegram.app import (
    TelegramBot,
    TelegramSetupError,
    build_application,
    publish_commands,
    run_telegram,
)
from bots.telegram.sender import TelegramSender

__all__ = ["TelegramBot", "TelegramSender", "TelegramSetupError", "build_application", "publish_commands", "run_telegram"]
