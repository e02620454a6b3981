"""Character helpers: Han detection, line splitting, and OpenCC simplified/traditional conversion.

The 平水韵 table and the corpus are traditional; users and the model write simplified. Every lookup
goes through these converters, so they are built once and cached (an OpenCC converter loads its
dictionaries from disk, which costs milliseconds per construction).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import opencc

__all__ = ["PUNCTUATION", "is_han", "poem_sentences", "split_lines", "to_simplified", "to_traditional"]

# Code-point ranges of CJK ideographs: URO, Ext A, compatibility ideographs, Ext B..H (SIP/TIP).
_HAN_RANGES: tuple[tuple[int, int], ...] = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0xF900, 0xFAFF),
    (0x20000, 0x323AF),
)

PUNCTUATION = "，。！？；：、,.!?;:"
"""Line-ending punctuation, full- and half-width; any of them (or a newline) ends a line."""

_SPLIT_RE = re.compile(r"[，。！？；：、,.!?;:\s\u3000]+")
# Quotes and title marks carry no line information; drop them instead of treating them as text.
_DROP_RE = re.compile(r"[「」『』“”‘’\"'《》〈〉…—\-·]")


def is_han(ch: str) -> bool:
    """True for a single CJK ideograph (not punctuation, kana, Latin or digits)."""
    if len(ch) != 1:
        return False
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _HAN_RANGES)


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def _encodable(text: str) -> str:
    """OpenCC takes UTF-8: a lone surrogate (possible in a chat message's JSON) cannot be encoded,
    and is no character anyway, so it is dropped."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "ignore").decode("utf-8")


@lru_cache(maxsize=65536)
def to_simplified(text: str) -> str:
    """Traditional (or mixed) text to simplified Chinese (OpenCC t2s)."""
    return _converter("t2s").convert(_encodable(text))


@lru_cache(maxsize=65536)
def to_traditional(text: str) -> str:
    """Simplified text to traditional Chinese (OpenCC s2t)."""
    return _converter("s2t").convert(_encodable(text))


def split_lines(text: str) -> list[str]:
    """Split a poem into lines at punctuation (full- or half-width), newlines or spaces.

    Quotes, title marks and dashes are dropped. Whatever else is left stays in its line, so a
    caller can reject non-Chinese text with a precise message rather than silently losing it.
    """
    cleaned = _DROP_RE.sub("", text)
    return [part for part in _SPLIT_RE.split(cleaned) if part]


def poem_sentences(lines: Sequence[str], marks: str) -> list[str]:
    """The lines with their marks, one sentence (up to a 。) per row: how a 词 is printed, its chart's
    breaks kept (转朱阁，低绮户，照无眠。)."""
    rows, current = [], ""
    for line, mark in zip(lines, marks, strict=True):
        current += line + mark
        if mark != "，":
            rows.append(current)
            current = ""
    return rows + ([current] if current else [])
