"""Exceptions users and operators can trigger.

    PoetcoreError
    ├── PoetcoreInputError      bad user input: has a code and zh/en messages for chat replies
    │   ├── UnknownFormError
    │   └── PoemShapeError      text is not a poem of a supported shape (checker exit 2)
    └── ModelLoadError          model directory missing or unreadable
"""

from __future__ import annotations


class PoetcoreError(Exception):
    """Base class for all poetcore errors."""


class PoetcoreInputError(PoetcoreError, ValueError):
    """Input that a user can fix; carries both languages so any front-end can answer."""

    def __init__(self, code: str, message_zh: str, message_en: str | None = None) -> None:
        super().__init__(message_zh)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en or message_zh

    def message(self, locale: str | None = None) -> str:
        """The message in the user's language (Simplified Chinese unless the locale is English)."""
        return self.message_en if (locale or "").lower().startswith("en") else self.message_zh

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_zh": self.message_zh, "message_en": self.message_en}


class UnknownFormError(PoetcoreInputError):
    """A form name we do not support."""


class PoemShapeError(PoetcoreInputError):
    """Text that is not a poem of any supported shape."""


class ModelLoadError(PoetcoreError):
    """The model directory is missing or broken."""
