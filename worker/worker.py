"""``PoemWorker``: a non-forking RQ worker that loads the composer once and serves poem jobs.

Why not RQ's default ``Worker``: it forks a work horse per job, so the model would be loaded
per job (or inherited across ``fork``, which CUDA does not survive). ``SimpleWorker`` runs jobs
in the worker process itself, so the model stays loaded in memory (and on the GPU).

Equivalent plain-RQ command line (what ``poetbot worker`` runs under the hood)::

    rq worker -w worker.worker.PoemWorker --serializer rq.serializers.JSONSerializer \\
        --url "$REDIS_URL" poems

Behaviour on top of RQ:

- JSONSerializer is forced: pickle on a shared Redis would let anyone with write access run
  code on the workers;
- a ``Liveness`` thread (``worker.reaper``) gives prompt crash recovery and runs due retries;
- SIGTERM is RQ's warm shutdown: the current job finishes, then the worker exits. A second
  SIGTERM/SIGINT is a cold shutdown; the interrupted job is recovered by the other workers;
- optional batching (``max_batch`` > 1): after taking one job the worker moves up to
  ``max_batch - 1`` more waiting jobs of the same queue into RQ's intermediate list and serves
  them all with one ``compose_batch`` call, then finishes or fails each job through RQ's own
  bookkeeping.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from typing import Any

from rq import Queue, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException, TimerDeathPenalty
from rq.utils import now
from rq.worker import WorkerStatus

from worker import jobs, keys
from worker.connection import connect
from worker.engine import Engine, load_engine, set_engine
from worker.logs import request_context
from worker.reaper import Liveness
from worker.settings import JOB_FUNCTION, QueueSettings, load_settings

log = logging.getLogger(__name__)

_DRAIN = """
-- Move up to ARGV[1] waiting job ids from the queue to its intermediate list (like BLMOVE does).
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
  if not id then break end
  out[#out + 1] = id
end
return out
"""


class PoemWorker(SimpleWorker):
    """RQ ``SimpleWorker`` with the composer preloaded, crash recovery and optional batching."""

    def __init__(
        self,
        queues: Any = None,
        *args: Any,
        settings: QueueSettings | None = None,
        engine: Engine | None = None,
        max_batch: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.settings = settings or load_settings()
        serializer = kwargs.get("serializer")
        if serializer not in (None, JSONSerializer, "rq.serializers.JSONSerializer"):
            log.warning("PoemWorker: serializer %r replaced by JSONSerializer (pickle is unsafe on shared Redis)",
                        serializer)
        kwargs["serializer"] = JSONSerializer
        kwargs.setdefault("maintenance_interval", self.settings.maintenance_interval_s)
        self._embedded = None
        if kwargs.get("connection") is None:
            from worker.embedded import resolve_redis_url

            url, self._embedded = resolve_redis_url(self.settings)
            kwargs["connection"] = connect(url)
        if threading.current_thread() is not threading.main_thread():
            # SIGALRM timeouts and signal handlers only work in the main thread.
            self.death_penalty_class = TimerDeathPenalty
        super().__init__(queues or [self.settings.queue], *args, **kwargs)
        self.max_batch = max_batch or self.settings.max_batch
        self.engine = engine
        self.liveness: Liveness | None = None
        self.stop_event: threading.Event | None = None  # set by WorkerThread; ends an idle wait
        self._drain = self.connection.register_script(_DRAIN)

    # --- lifecycle ---------------------------------------------------------------------------
    def load(self) -> Engine:
        """Load the composer once (before the first job) and make it the process's engine."""
        if self.engine is None:
            self.engine = load_engine(self.settings)
        set_engine(self.engine)
        jobs.configure(self.settings)
        return self.engine

    def work(self, *args: Any, **kwargs: Any) -> bool:
        self.load()
        self.liveness = Liveness(self.connection, self.name, self.queue_names(), self.settings).start()
        log.info("PoemWorker %s: serving %s on %s (max_batch=%d)", self.name, ",".join(self.queue_names()),
                 self.engine.device if self.engine else "?", self.max_batch)
        try:
            return super().work(*args, **kwargs)
        finally:
            interrupted = self._current_job_id_safe() is not None
            if interrupted:
                log.warning("PoemWorker %s: stopped in the middle of a job; other workers will recover it", self.name)
            self.liveness.stop(deregister=not interrupted)
            if self._embedded is not None:
                self._embedded.stop()

    def _current_job_id_safe(self) -> str | None:
        try:
            return self.get_current_job_id()
        except Exception:  # Redis gone: assume the worst, keep our jobs recoverable
            return "unknown"

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        if self.stop_event is None:
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        # In a thread no signal can interrupt BLMOVE: wait in 1 s slices and check the stop event.
        while not self.stop_event.is_set():
            result = super().dequeue_job_and_maintain_ttl(1, max_idle_time=1)
            if result is not None or timeout is None:
                return result
        return None

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            super()._install_signal_handlers()

    # --- execution ---------------------------------------------------------------------------
    def execute_job(self, job: Job, queue: Queue) -> None:
        start = time.perf_counter()
        batch = [job]
        if self.max_batch > 1 and job.func_name == JOB_FUNCTION:
            batch += self._take_more(queue, self.max_batch - 1)
        if len(batch) == 1:
            with request_context(job.id):  # job id == request id, so RQ's own log lines carry it too
                super().execute_job(job, queue)
        else:
            self._execute_batch(batch, queue)
        self._record_service_time(queue.name, (time.perf_counter() - start) / len(batch))

    def _take_more(self, queue: Queue, limit: int) -> list[Job]:
        ids = self._drain(keys=[queue.key, queue.intermediate_queue_key], args=[limit])
        taken: list[Job] = []
        for raw in ids:
            job_id = raw.decode() if isinstance(raw, bytes) else raw
            try:
                job = Job.fetch(job_id, connection=self.connection, serializer=self.serializer)
            except NoSuchJobError:
                self.connection.lrem(queue.intermediate_queue_key, 1, job_id)
                continue
            if job.func_name != JOB_FUNCTION or job.get_status(refresh=False) == JobStatus.CANCELED:
                # Not ours to batch: hand it back to the front of the queue, untouched.
                with self.connection.pipeline() as pipe:
                    pipe.lrem(queue.intermediate_queue_key, 1, job_id)
                    if job.get_status(refresh=False) != JobStatus.CANCELED:
                        pipe.lpush(queue.key, job_id)
                    pipe.execute()
                continue
            taken.append(job)
        return taken

    def _execute_batch(self, batch: list[Job], queue: Queue) -> None:
        executions = {}
        for job in batch:
            executions[job.id] = self.prepare_execution(job)
            self.prepare_job_execution(job, remove_from_intermediate_queue=True)
            job.started_at = now()
        timeout = max(j.timeout or queue.DEFAULT_TIMEOUT for j in batch)
        raws = [j.args[0] if j.args else None for j in batch]
        queued = [jobs.queued_ms_of(j) for j in batch]
        log.info("PoemWorker %s: serving a batch of %d jobs", self.name, len(batch))
        try:
            with self.death_penalty_class(timeout, JobTimeoutException, job_id=batch[0].id):
                served = jobs.serve_requests(raws, self.connection, queued_ms=queued, worker=self.name,
                                             engine=self.engine)
            errors: list[BaseException | None] = [s.error for s in served]
        except Exception as exc:  # the timeout, or a bug outside generation
            served = []
            errors = [exc] * len(batch)
        for i, job in enumerate(batch):
            self.execution = executions[job.id]
            self.handle_execution_ended(job, queue, job.success_callback_timeout)
            error = errors[i]
            if error is None:
                job._result = served[i].result()
                job._status = JobStatus.FINISHED
                self.handle_job_success(job=job, queue=queue, started_job_registry=queue.started_job_registry)
                continue
            job._status = JobStatus.FAILED
            exc_info = (type(error), error, error.__traceback__)
            try:
                job.execute_failure_callback(self.death_penalty_class, *exc_info)
            except Exception:
                log.exception("PoemWorker %s: failure callback of %s raised", self.name, job.id)
            self.handle_exception(job, *exc_info)
            self.handle_job_failure(job=job, queue=queue, started_job_registry=queue.started_job_registry,
                                    exc_string="".join(traceback.format_exception(*exc_info)))
        self.set_state(WorkerStatus.IDLE)

    def _record_service_time(self, queue_name: str, seconds: float) -> None:
        """Moving average per job, read by clients to estimate 'try again in N s'."""
        key = keys.service_time(queue_name)
        try:
            old = self.connection.get(key)
            value = seconds * 1000 if old is None else 0.8 * float(old) + 0.2 * seconds * 1000
            self.connection.set(key, f"{value:.1f}", ex=86400)
        except Exception as exc:  # metrics must never fail a job
            log.debug("PoemWorker: could not record service time: %s", exc)

