"""The line index's schema: what the builder (`poetcore.data.line_build`) writes and the index reads.

Schema (``SCHEMA_VERSION``), in a database of encoding UTF-16le (two bytes a Han character, not three):

- ``poems(id, collection, dynasty, author, title, fame, body)``: ``body`` is the ids of the poem's
  lines in order (little-endian uint32), so the line after a line can be found (接句); ``fame`` in
  (0, 1) (`poetcore.data.line_fame`);
- ``lines(id, text UNIQUE, poem_id, idx)``: each distinct line once, from the poem where it is most
  famous; ids run in line-fame order, so ``ORDER BY id`` means "most famous first". A few rows are
  not whole lines of their poem's body: the parts of a line held across a 、 (晓风残月 of
  杨柳岸晓风残月) and another edition's reading of a corrected line; ``idx`` is the whole line's;
- ``grams(gram, ids)``: postings, WITHOUT ROWID, ``ids`` the line ids as little-endian uint32 in
  ascending (fame) order. A gram is either a character with its 1-based position (``月3``) for
  "lines with 月 at position 3", or a bigram (``明月``), which finds the candidates for near misses.
  Only the postings the queries read are kept: the first ``NEAR_POSTINGS_CAP`` of a bigram, the
  first ``CHAR_POSTINGS_CAP`` of a character at a position;
- ``meta``: what was built from what, and when; ``famous_lines``: how many of the first ids have a
  line fame of at least ``SLIP_MIN_FAME``.
"""

from __future__ import annotations

__all__ = ["CHAR_POSTINGS_CAP", "MAX_LINE", "MIN_LINE", "NEAR_POSTINGS_CAP", "SCHEMA_VERSION", "SLIP_MIN_FAME",
           "char_gram"]

SCHEMA_VERSION = "2"
"""Bumped whenever a table changes; the index refuses a file of another version."""

MIN_LINE, MAX_LINE = 4, 15
"""Indexed line lengths in Han characters (games accept 4-12)."""

NEAR_POSTINGS_CAP = 4000
"""Near misses look at the most famous 4,000 lines that share a bigram with the answer; the rest of a
bigram's postings would never be read."""

CHAR_POSTINGS_CAP = 1000
"""Lines with a character at a position: a game asks for the most famous few it has not used yet (at
most four times 20 plus the lines a game has used)."""

SLIP_MIN_FAME = 0.5
"""Line fame from which a one-character difference is taken for a slip of the text (the corpus's or
the player's) rather than another line: the line is accepted, and the corpus text shown."""


def char_gram(ch: str, position: int) -> str:
    """The posting key for character ``ch`` at 1-based ``position``."""
    return f"{ch}{position}"
