"""Capped, jittered exponential back-off: how every front-end waits for a platform that went away."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Capped exponential back-off with jitter: ``first_s``, doubling, never above ``cap_s``.

    Each delay is drawn from the upper half of its step ("equal jitter"), so many bots (or many
    replicas after one outage) do not knock at the same instant, and no delay is ever zero.
    """

    first_s: float
    cap_s: float
    rng: Callable[[], float] = field(default=random.random, repr=False)
    _step: int = 0

    def next(self) -> float:
        ceiling = min(self.cap_s, self.first_s * 2 ** self._step)
        self._step = min(self._step + 1, 30)
        return ceiling * (0.5 + 0.5 * self.rng())

    def reset(self) -> None:
        self._step = 0
