"""The line index's schema: what the builder (`poetcore.data.line_build`) writes and the index reads.

Schema (``SCHEMA_VERSION``):

- ``poems(id, collection, dynasty, author, title, fame, body)``: ``body`` is the poem's normalised
  lines joined by newlines, so the line after a line can be found (接句);
- ``lines(id, text UNIQUE, length, poem_id, idx, fame)``: each distinct line once, from its most
  famous poem; ids run in fame order, so ``ORDER BY id`` means "most famous first";
- ``grams(gram, line_id)``: postings, sorted, WITHOUT ROWID. A gram is either a character with its
  1-based position (``月3``) for "lines with 月 at position 3", or a bigram (``明月``), which finds
  the candidates for near misses;
- ``meta``: what was built from what, and when.
"""

from __future__ import annotations

__all__ = ["MAX_LINE", "MIN_LINE", "SCHEMA_VERSION", "char_gram"]

SCHEMA_VERSION = "1"
"""Bumped whenever a table changes; the index refuses a file of another version."""

MIN_LINE, MAX_LINE = 4, 15
"""Indexed line lengths in Han characters (games accept 4-12)."""


def char_gram(ch: str, position: int) -> str:
    """The posting key for character ``ch`` at 1-based ``position``."""
    return f"{ch}{position}"
