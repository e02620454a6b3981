"""Job functions for fault-injection tests, enqueued by dotted path ``support.jobs.<name>``.

They wrap the real ``worker.jobs.compose_poem`` and fail in controlled ways, so the real
retry, failure-callback and de-duplication paths run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from rq.job import get_current_job

from worker.jobs import compose_poem


def _attempt() -> int:
    job = get_current_job()
    assert job is not None
    return int(job.connection.incr(f"test:attempts:{job.id}"))


def fail_first(request: dict[str, Any]) -> dict[str, Any]:
    """Raises on the first ``route['fail_times']`` attempts (default 1), then composes."""
    if _attempt() <= int(request.get("route", {}).get("fail_times", 1)):
        raise RuntimeError("transient failure injected by the test")
    return compose_poem(request)


def publish_then_fail(request: dict[str, Any]) -> dict[str, Any]:
    """Publishes the reply, then fails the first attempt: the retry runs the job a second time."""
    result = compose_poem(request)
    if _attempt() == 1:
        raise RuntimeError("failure after publishing, injected by the test")
    return result


def always_fail(request: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("permanent failure injected by the test")


def stuck_in_native_code(request: dict[str, Any]) -> dict[str, Any]:
    """Blocks like a hung CUDA call: SIGALRM (RQ's job timeout) cannot interrupt it."""
    import signal
    import time

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
    time.sleep(float(request.get("route", {}).get("stuck_s", 30)))
    return compose_poem(request)


def held(request: dict[str, Any]) -> dict[str, Any]:
    """Composes only once the test creates ``<route['hold']>/go``: "mid-job" lasts exactly as long as
    the test wants, whatever the machine's load, and waiting on a file needs no Redis (a test may stop
    Redis meanwhile). Each attempt first writes its worker's name to ``<hold>/running-<pid>``."""
    job = get_current_job()
    assert job is not None
    hold = Path(request["route"]["hold"])
    (hold / f"running-{os.getpid()}").write_text(job.worker_name or "")
    while not (hold / "go").exists():
        time.sleep(0.01)
    return compose_poem(request)
