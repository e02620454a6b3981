"""Character 3-gram baseline with interpolated absolute discounting.

It scores exactly the tokens the neural model is scored on (poem body + EOS, same tokenizer,
same validation split), so the two bpc numbers are directly comparable.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

LN2 = math.log(2.0)
START = -1  # padding id before the first body token


class TrigramLM:
    """P(c | a, b) = max(N(abc) - D, 0)/N(ab·) + D·T(ab)/N(ab·) · P(c | b), recursively down to uniform."""

    def __init__(self, vocab_size: int, discount: float = 0.75) -> None:
        if not 0.0 < discount < 1.0:
            raise ValueError(f"discount must be in (0, 1), got {discount}")
        self.V = vocab_size
        self.D = discount
        self.uni: Counter[int] = Counter()
        self.bi: dict[int, Counter[int]] = defaultdict(Counter)
        self.tri: dict[tuple[int, int], Counter[int]] = defaultdict(Counter)
        self.total = 0

    def fit(self, sequences: Sequence[Sequence[int]]) -> TrigramLM:
        for seq in sequences:
            a, b = START, START
            for c in seq:
                self.uni[c] += 1
                self.bi[b][c] += 1
                self.tri[(a, b)][c] += 1
                a, b = b, c
        self.total = sum(self.uni.values())
        self._bi_tot = {k: sum(v.values()) for k, v in self.bi.items()}
        self._tri_tot = {k: sum(v.values()) for k, v in self.tri.items()}
        return self

    def _p_uni(self, c: int) -> float:
        # Add-one on unigrams so unseen characters keep a non-zero probability.
        return (self.uni.get(c, 0) + 1) / (self.total + self.V)

    def _p_bi(self, b: int, c: int) -> float:
        tot = self._bi_tot.get(b, 0)
        if not tot:
            return self._p_uni(c)
        counts = self.bi[b]
        return max(counts.get(c, 0) - self.D, 0) / tot + self.D * len(counts) / tot * self._p_uni(c)

    def prob(self, a: int, b: int, c: int) -> float:
        tot = self._tri_tot.get((a, b), 0)
        if not tot:
            return self._p_bi(b, c)
        counts = self.tri[(a, b)]
        return max(counts.get(c, 0) - self.D, 0) / tot + self.D * len(counts) / tot * self._p_bi(b, c)

    def bits(self, sequences: Sequence[Sequence[int]]) -> tuple[float, int]:
        """Total bits and token count over the sequences."""
        total, n = 0.0, 0
        for seq in sequences:
            a, b = START, START
            for c in seq:
                total -= math.log(self.prob(a, b, c)) / LN2
                n += 1
                a, b = b, c
        return total, n


def trigram_bpc(train: Sequence[Sequence[int]], valid: Sequence[Sequence[int]], vocab_size: int,
                valid_chars: int | None = None, discount: float = 0.75) -> float:
    """Validation bits per character of a 3-gram fitted on ``train``."""
    lm = TrigramLM(vocab_size, discount).fit(train)
    bits, n = lm.bits(valid)
    return bits / (valid_chars or n)
