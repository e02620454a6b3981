"""A ``PoemWorker`` in a thread of this process, for tests, benchmarks and single-process demos."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from worker.contract.connection import connect
from worker.settings import WorkerConfig
from worker.worker import PoemWorker

log = logging.getLogger(__name__)


class WorkerThread:
    """A ``PoemWorker`` in a thread of this process (tests, benchmarks, single-process demos).

    Job timeouts use RQ's ``TimerDeathPenalty`` here, since signals only reach the main thread.
    ``stop()`` lets the current job finish, like a warm shutdown.
    """

    def __init__(self, redis_url: str, config: WorkerConfig, *, queues: list[str] | None = None,
                 name: str | None = None) -> None:
        self.redis_url = redis_url
        self.config = config
        self.settings = config.queue
        self.queues = queues
        self.name = name
        self.worker: object | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="poem-worker", daemon=True)

    def _run(self) -> None:
        try:
            worker = PoemWorker(self.queues or [self.settings.queue], connection=connect(self.redis_url),
                                config=self.config, name=self.name)
            worker.stop_event = self._stop
            worker.load()
            self.worker = worker
            self._ready.set()
            worker.work(logging_level=self.settings.log_level.upper())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            log.exception("embedded worker: stopped with an error")

    def start(self, timeout: float = 120.0) -> WorkerThread:
        """Start and wait until the model is loaded."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"embedded worker not ready after {timeout} s")
        if self._error is not None:
            raise RuntimeError(f"embedded worker failed to start: {self._error}") from self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> WorkerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
