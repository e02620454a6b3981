"""Deterministic train/valid/test assignment from a hash of the poem id.

`sha1(id) mod 1000`: < 970 train, 970-984 valid, >= 985 test (97 / 1.5 / 1.5 %).
A hash of the id (not a shuffle) keeps every poem in the same split across runs,
corpus versions and machines, and needs no stored list. Ids are positional in the
pinned package (`tang-<file*1000+index>`), so they are stable too.
"""

from __future__ import annotations

import hashlib

SPLITS: tuple[str, ...] = ("train", "valid", "test")
SPLIT_RULE = "sha1(id) mod 1000: <970 train, 970-984 valid, >=985 test"
_VALID_FROM, _TEST_FROM = 970, 985


def bucket(poem_id: str) -> int:
    """0..999, from the first 8 bytes of sha1(id)."""
    return int.from_bytes(hashlib.sha1(poem_id.encode("utf-8")).digest()[:8], "big") % 1000


def split_of(poem_id: str) -> str:
    """The split ("train", "valid" or "test") a poem id belongs to."""
    b = bucket(poem_id)
    if b < _VALID_FROM:
        return "train"
    return "valid" if b < _TEST_FROM else "test"
