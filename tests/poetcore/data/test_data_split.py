"""The split is a pure function of the id: deterministic, stable, and close to 97/1.5/1.5."""

from __future__ import annotations

import hashlib
from collections import Counter

from poetcore.data.split import SPLITS, bucket, split_of


def test_split_is_deterministic_and_matches_the_documented_rule() -> None:
    for i in range(2000):
        pid = f"song-{i}"
        b = int.from_bytes(hashlib.sha1(pid.encode()).digest()[:8], "big") % 1000
        expected = "train" if b < 970 else "valid" if b < 985 else "test"
        assert bucket(pid) == b
        assert split_of(pid) == split_of(pid) == expected


def test_split_proportions() -> None:
    counts = Counter(split_of(f"tang-{i}") for i in range(100_000))
    assert set(counts) == set(SPLITS)
    assert abs(counts["train"] / 100_000 - 0.97) < 0.005
    assert abs(counts["valid"] / 100_000 - 0.015) < 0.002
    assert abs(counts["test"] / 100_000 - 0.015) < 0.002
