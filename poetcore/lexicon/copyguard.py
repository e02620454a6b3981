"""Corpus lines a new poem must not repeat verbatim: a sorted set of 31-bit line hashes.

The decoder asks at the last character of every line whether the line would then equal a corpus line,
and masks the characters that would make it one, so a poem is new line by line (beam search, which
favours the likeliest lines, copied 5% of them without it). The hash is a polynomial over code points
(tokenizer-independent, vectorisable: h(line + c) = h(line) * P + ord(c) mod M), so a collision only
ever blocks one extra character, at a rate of lines / M (about 0.07%).
"""

from __future__ import annotations

import logging
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from poetcore.paths import asset_path

__all__ = ["CORPUS_LINES_PATH", "GUARD_MIN_FAME", "HASH_BASE", "HASH_MOD", "CorpusLines", "line_hash"]

log = logging.getLogger(__name__)

CORPUS_LINES_PATH = asset_path("lexicon", "corpus_lines.bin")
HASH_MOD = 2**31 - 1
HASH_BASE = 1_000_003
LINE_LENGTHS = (5, 7)  # the line lengths a 诗 is composed in
GUARD_MIN_FAME = 0.5
"""Line-index fame from which a 古体 or 蒙学 line (outside the prepared 近体 splits) joins the set."""


def line_hash(line: str) -> int:
    h = 0
    for ch in line:
        h = (h * HASH_BASE + ord(ch)) % HASH_MOD
    return h


class CorpusLines:
    """The set of corpus line hashes, sorted (``hashes`` is an ``array('i')``)."""

    def __init__(self, hashes: array) -> None:
        self.hashes = hashes

    @classmethod
    def build(cls, lines: Iterable[str]) -> CorpusLines:
        return cls(array("i", sorted({line_hash(x) for x in lines if len(x) in LINE_LENGTHS})))

    @classmethod
    def default(cls) -> CorpusLines:
        return _default()

    def __len__(self) -> int:
        return len(self.hashes)

    def __contains__(self, line: object) -> bool:
        if not isinstance(line, str):
            return False
        h = line_hash(line)
        i = bisect_left(self.hashes, h)
        return i < len(self.hashes) and self.hashes[i] == h

    def save(self, path: Path = CORPUS_LINES_PATH) -> None:
        path.write_bytes(self.hashes.tobytes())

    @classmethod
    def load(cls, path: Path = CORPUS_LINES_PATH) -> CorpusLines:
        hashes = array("i")
        hashes.frombytes(path.read_bytes())
        return cls(hashes)


@lru_cache(maxsize=1)
def _default() -> CorpusLines:
    if not CORPUS_LINES_PATH.exists():
        log.warning("copyguard: %s missing (run `poetcore data tables`); copies are not blocked", CORPUS_LINES_PATH)
        return CorpusLines(array("i"))
    return CorpusLines.load()
