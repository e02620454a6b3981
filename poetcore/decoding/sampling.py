"""Temperature and top-p for sampling, as HF computes them, without sorting the whole vocabulary.

HF's ``TopPLogitsWarper`` sorts every row of (rows, vocabulary) at every step: with 8 beams over 8,409
characters that sort was the largest single cost of a poem on CPU (about 150 ms of 1.1 s). The
nucleus is almost always inside the few hundred likeliest characters, so `TemperatureTopP` takes the
top ``k`` and cuts there; a row whose top ``k`` do not reach ``top_p`` falls back to HF's warper. The
tokens kept are HF's (tested against it); `Composer` turns HF's own temperature and top-p off and
puts this after the constraint processor, which is where HF puts its warpers.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor, TopPLogitsWarper

__all__ = ["TemperatureTopP"]


class TemperatureTopP(LogitsProcessor):
    """``TemperatureLogitsWarper(temperature)`` then ``TopPLogitsWarper(top_p, min_tokens_to_keep)``."""

    def __init__(self, temperature: float, top_p: float, min_tokens_to_keep: int = 1, k: int = 256) -> None:
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        if not 0 < top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
        self.temperature = temperature
        self.top_p = top_p
        self.min_tokens_to_keep = min_tokens_to_keep
        self.k = max(k, min_tokens_to_keep)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.temperature != 1.0:
            scores = scores / self.temperature  # type: ignore[assignment]
        if self.top_p >= 1.0:
            return scores
        k = min(self.k, scores.shape[-1])
        top, idx = scores.softmax(-1).topk(k, dim=-1)  # descending
        cum = top.cumsum(-1)
        keep = (cum - top) < self.top_p  # the mass before a token is under top_p (HF: the mass after it is over 1 - p)
        keep[:, : self.min_tokens_to_keep] = True
        remove = torch.ones_like(scores, dtype=torch.bool).scatter(1, idx, ~keep)
        out = scores.masked_fill(remove, float("-inf"))
        short = cum[:, -1] < self.top_p
        if bool(short.any()):  # the nucleus reaches past the top k: HF's full sort for those rows
            hf = TopPLogitsWarper(self.top_p, min_tokens_to_keep=self.min_tokens_to_keep)
            out[short] = hf(input_ids[short], scores[short])  # type: ignore[arg-type]
        return out  # type: ignore[return-value]
