"""Adjacent character pairs inside the training lines, counted: the corpus's sense of what stands next
to what. `poetcore.lexicon.suggest` ranks replacement characters by it; the decoder takes its 叠字 licence
from it (`BigramTable.reduplicated`): a random model's 月月, 鱼鱼, 绿绿 read as noise to blind
readers, while 青青, 萧萧, 处处 are how poems are written.
"""

from __future__ import annotations

import gzip
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from poetcore.paths import asset_path

__all__ = ["BIGRAMS_PATH", "DIECI_RATE", "MIN_COUNT", "MIN_DIECI", "BigramTable"]

BIGRAMS_PATH = asset_path("lexicon", "bigrams.tsv.gz")
MIN_COUNT = 5
MIN_DIECI = 20
"""A 叠字 is licensed from this many corpus uses ..."""
DIECI_RATE = 0.005
"""... that are at least this share of the pairs the character starts (月 starts 0.1% of its pairs as 月月)."""


class BigramTable:
    """Counts of adjacent character pairs inside corpus lines, indexed both ways."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.after: dict[str, dict[str, int]] = defaultdict(dict)  # left -> {next: count}
        self.before: dict[str, dict[str, int]] = defaultdict(dict)  # right -> {previous: count}
        for pair, n in counts.items():
            self.after[pair[0]][pair[1]] = n
            self.before[pair[1]][pair[0]] = n

    def count(self, pair: str) -> int:
        return self.counts.get(pair, 0)

    @classmethod
    def derive(cls, lines: Iterable[str], min_count: int = MIN_COUNT) -> BigramTable:
        counts: Counter[str] = Counter()
        for line in lines:
            counts.update(line[i : i + 2] for i in range(len(line) - 1))
        return cls({p: n for p, n in counts.items() if n >= min_count})

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "".join(f"{p}\t{n}\n" for p, n in sorted(self.counts.items()))
        # No name, no time in the header: the same corpus gives byte-identical files.
        with open(path, "wb") as raw, gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as f:
            f.write(body.encode("utf-8"))

    @classmethod
    def load(cls, path: Path = BIGRAMS_PATH) -> BigramTable:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            pairs = (line.rstrip("\n").split("\t") for line in f if line.strip())
            return cls({p: int(n) for p, n in pairs})

    @classmethod
    def default(cls) -> BigramTable:
        return _default()

    def reduplicated(self) -> frozenset[str]:
        """Characters whose 叠字 the corpus writes (青青 萧萧 处处, not 月月 鱼鱼)."""
        return frozenset(
            ch for ch, following in self.after.items()
            if (n := following.get(ch, 0)) >= MIN_DIECI and n >= DIECI_RATE * sum(following.values())
        )


@lru_cache(maxsize=1)
def _default() -> BigramTable:
    return BigramTable.load()
