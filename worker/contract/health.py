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
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Health:
    """Readiness and work-loop progress of one process; thread-safe, cheap to update."""

    stall_after_s: float
    ready: bool = False
    _busy_since: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def mark_ready(self) -> None:
        self.ready = True

    def busy(self) -> None:
        with self._lock:
            self._busy_since = time.monotonic()

    def idle(self) -> None:
        with self._lock:
            self._busy_since = None

    def busy_for(self) -> float:
        with self._lock:
            return 0.0 if self._busy_since is None else time.monotonic() - self._busy_since

    def alive(self) -> bool:
        return self.busy_for() < self.stall_after_s

    def status(self) -> dict[str, Any]:
        return {"ready": self.ready, "alive": self.alive(), "busy_s": round(self.busy_for(), 1)}


def worker_health(job_timeout_s: float, stall_margin_s: float) -> Health:
    """Past the job timeout RQ's own timer should have fired; past the margin too, the loop is stuck."""
    return Health(stall_after_s=job_timeout_s + stall_margin_s)


__all__ = ["Health", "worker_health"]
