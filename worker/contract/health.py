"""Health of a worker (or bot) process, served on its metrics port next to ``/metrics``.

- ``/readyz``: 200 once the process can serve (a worker: its model is loaded), else 503. The
  metrics port opens before the model loads (~4 s, minutes for a big model on a cold GPU), so
  ``/metrics`` alone says nothing about readiness.
- ``/livez``: 200 while the work loop makes progress: idle (waiting on Redis), or busy on a job
  for less than the job timeout plus a margin. The liveness thread's heartbeat cannot tell: it
  keeps beating while the main thread is stuck inside a CUDA call, so it asks `Health` first and
  stops beating when the loop is stuck, which lets the reaper recover the job as from a crash.
- ``/healthz``: both (Docker's HEALTHCHECK).
- ``/demand`` (workers): waiting + running jobs of the queue as JSON, for KEDA's ``metrics-api``
  trigger: the waiting list alone reads 0 while every worker is busy, and KEDA would scale in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Health:
    """Readiness and work-loop progress of one process; thread-safe, cheap to update."""

    stall_after_s: float
    started: bool = False
    _busy_since: float | None = None
    _waiting_on: set[str] = field(default_factory=set, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    """Seconds, monotonic; a test passes its own to step past ``stall_after_s`` without sleeping."""

    def mark_ready(self) -> None:
        """The process itself can serve (a worker: its model is loaded; a bot: its loop runs)."""
        self.started = True

    def set_part_ready(self, part: str, ready: bool) -> None:
        """A part the process serves through (a chat platform) answers, or has gone away.

        A bot whose platform is unreachable stays up and retries; until the platform answers it
        is not ready, so an orchestrator routes nothing to it and does not restart it either.
        """
        with self._lock:
            if ready:
                self._waiting_on.discard(part)
            else:
                self._waiting_on.add(part)

    @property
    def ready(self) -> bool:
        with self._lock:
            return self.started and not self._waiting_on

    def waiting_on(self) -> list[str]:
        with self._lock:
            return sorted(self._waiting_on)

    def busy(self) -> None:
        with self._lock:
            self._busy_since = self.clock()

    def idle(self) -> None:
        with self._lock:
            self._busy_since = None

    def busy_for(self) -> float:
        with self._lock:
            return 0.0 if self._busy_since is None else self.clock() - self._busy_since

    def alive(self) -> bool:
        return self.busy_for() < self.stall_after_s

    def status(self) -> dict[str, Any]:
        return {"ready": self.ready, "alive": self.alive(), "busy_s": round(self.busy_for(), 1),
                "waiting_on": self.waiting_on()}


def worker_health(job_timeout_s: float, stall_margin_s: float) -> Health:
    """Past the job timeout RQ's own timer should have fired; past the margin too, the loop is stuck."""
    return Health(stall_after_s=job_timeout_s + stall_margin_s)


__all__ = ["Health", "worker_health"]
