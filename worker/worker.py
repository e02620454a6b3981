"""``PoemWorker``: a non-forking RQ worker that loads the composer once and serves poem jobs.

Why not RQ's default ``Worker``: it forks a work horse per job, so the model would be loaded
per job (or inherited across ``fork``, which CUDA does not survive). ``SimpleWorker`` runs jobs
in the worker process itself, so the model stays loaded in memory (and on the GPU).

``poetbot worker`` (``worker.cli``) is its composition root: it builds the settings tree and the
Redis connection and passes both in, so a worker never starts a Redis server itself. The plain-RQ
line below works too; RQ's CLI then supplies the connection and the worker reads the settings tree::

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
  bookkeeping (`worker.rq_private`, the one place that touches RQ internals).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

import redis
from redis.client import PubSub, PubSubWorkerThread
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException, TimerDeathPenalty
from rq.worker import WorkerStatus

from worker import jobs, rq_private
from worker.contract import keys
from worker.contract.health import Health, worker_health
from worker.contract.logs import request_context
from worker.contract.metrics import REDIS_RETRIES, WORKERS_BUSY
from worker.contract.settings import JOB_FUNCTION
from worker.engine import Engine, load_engine, set_engine
from worker.reaper import Liveness
from worker.settings import WorkerConfig, load_worker_config

log = logging.getLogger(__name__)

class PoemWorker(SimpleWorker):
    """RQ ``SimpleWorker`` with the composer preloaded, crash recovery and optional batching."""

    def __init__(
        self,
        queues: Any = None,
        *args: Any,
        config: WorkerConfig | None = None,
        engine: Engine | None = None,
        max_batch: int | None = None,
        health: Health | None = None,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("connection") is None:
            raise TypeError("PoemWorker needs connection=: its composition root (the CLI) owns the Redis server")
        # `rq worker -w worker.worker.PoemWorker` builds us with a connection only: read the tree then,
        # with the same strict check as `poetbot worker`.
        config = config or load_worker_config()
        self.config = config
        self.settings = config.queue
        serializer = kwargs.get("serializer")
        if serializer not in (None, JSONSerializer, "rq.serializers.JSONSerializer"):
            log.warning("PoemWorker: serializer %r replaced by JSONSerializer (pickle is unsafe on shared Redis)",
                        serializer)
        kwargs["serializer"] = JSONSerializer
        kwargs.setdefault("maintenance_interval", config.worker.maintenance_interval_s)
        if threading.current_thread() is not threading.main_thread():
            # SIGALRM timeouts and signal handlers only work in the main thread.
            self.death_penalty_class = TimerDeathPenalty
        super().__init__(queues or [self.settings.queue], *args, **kwargs)
        self.max_batch = max_batch or config.worker.max_batch
        self.health = health or worker_health(self.settings.job_timeout_s, self.settings.stall_margin_s)
        self.engine = engine
        self.liveness: Liveness | None = None
        self.stop_event: threading.Event | None = None  # set by WorkerThread; ends an idle wait
        self._lost_redis: BaseException | None = None  # set when a Redis call failed inside RQ's loop
        self._shutdown_asked = False  # a warm shutdown was requested (SIGTERM), busy or idle
        self._pubsub_stop = threading.Event()  # ends the command channel's pause after a Redis error
        self._pubsub_warned_at = -math.inf
        rq_private.quiet_redis_retries(self)

    # --- lifecycle ---------------------------------------------------------------------------
    def load(self) -> Engine:
        """Load the composer once (before the first job) and make it the process's engine."""
        if self.engine is None:
            self.engine = load_engine(self.config.engine, self.config.worker)
        set_engine(self.engine)
        jobs.configure(self.settings)
        self.health.mark_ready()
        return self.engine

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """RQ's work loop, re-entered after a lost Redis: the model stays loaded across outages."""
        self.load()
        self._clear_dead_namesake()
        self.liveness = Liveness(self.connection, self.name, self.queue_names(), self.settings,
                                 health=self.health).start()
        log.info("PoemWorker %s: serving %s on %s (max_batch=%d)", self.name, ",".join(self.queue_names()),
                 self.engine.device if self.engine else "?", self.max_batch)
        worked = False
        # RQ installs its SIGTERM/SIGINT handlers only once its bootstrap has talked to Redis; a worker
        # that lost Redis before that (or waits in `_reconnect`) would die by the default action.
        self._install_signal_handlers()
        try:
            while True:
                self._lost_redis = None
                self._pubsub_stop.clear()
                try:
                    worked = super().work(*args, **kwargs) or worked
                except (redis.ConnectionError, redis.TimeoutError) as exc:  # RQ's teardown on a dead connection
                    self._lost_redis = exc
                finally:
                    # RQ's teardown stops the command channel only when Redis let it deregister first;
                    # otherwise its thread would retry on, and one more would start per reconnect.
                    self.unsubscribe()
                if self._lost_redis is None or self._stopping():
                    return worked
                self._reconnect()
                if self._stopping():
                    return worked
        except StopRequested:
            # SIGTERM of an idle worker outside RQ's loop (in its teardown, or while we wait for Redis):
            # RQ raises it from the handler; nothing runs, so nothing is left to finish.
            return worked
        finally:
            # RQ's in-memory state, not Redis's: Redis may be the reason we are here.
            interrupted = self.get_state() == WorkerStatus.BUSY
            if interrupted:
                log.warning("PoemWorker %s: stopped in the middle of a job; other workers will recover it", self.name)
            self.liveness.stop(deregister=not interrupted)

    def _clear_dead_namesake(self) -> None:
        """Take over a fixed name (``--name host-gpu0``) from a dead predecessor.

        RQ keeps a killed worker's registration until its key's TTL runs out (minutes), and
        refuses a new worker of the same name meanwhile, so ``Restart=always`` after ``kill -9``
        would fail for minutes. Our liveness key says more: it lapses within ``liveness_ttl_s`` of
        the last beat. No liveness key means the namesake is dead: recover its job, drop its
        registration, start.
        """
        rq_key_alive = self.connection.exists(self.key) and not self.connection.hexists(self.key, "death")
        if not rq_key_alive:
            return
        if self.connection.exists(keys.alive(self.name)):
            return  # a live namesake: let RQ refuse, as it should
        recovered = Liveness(self.connection, self.name, self.queue_names(), self.settings).reaper.recover_worker(
            self.name)
        rq_private.drop_registration(self)
        log.warning("PoemWorker %s: took over the name from a dead predecessor (%d job(s) recovered)", self.name,
                    recovered)

    def _allowed(self, job: Job) -> bool:
        """JSON blocks pickle, not callables: a job names any importable function, so only the
        project's job modules run, and so do only their callbacks."""
        names = [job.func_name, *rq_private.callback_names(job)]
        return all(str(n).rpartition(".")[0] in self.config.worker.job_modules for n in names)

    def _stopping(self) -> bool:
        return (self._shutdown_asked or self._stop_requested
                or (self.stop_event is not None and self.stop_event.is_set()))

    def handle_warm_shutdown_request(self) -> None:
        """RQ flags ``_stop_requested`` only for a busy worker; an idle one unwinds by exception, and
        a stale connection met on the way out (after a Redis restart) must not read as a lost Redis
        to reconnect to: that worker would serve on and ignore its SIGTERM."""
        self._shutdown_asked = True
        super().handle_warm_shutdown_request()

    def _reconnect(self) -> None:
        """Wait for Redis with back-off, then hand the interrupted job to the reaper's recovery.

        RQ's loop quits on any error, and a lost connection is one; a restart or failover of Redis
        must not take the loaded model down with it. The job that was running is recovered exactly
        as after a crash (requeued at the front, counted against ``crash_retries``); a reply it had
        already published stays the only one, because replies are de-duplicated by request id.
        """
        REDIS_RETRIES.labels(part="reconnect").inc()
        log.warning("PoemWorker %s: lost Redis (%s); reconnecting, the model stays loaded", self.name,
                    self._lost_redis)
        delay = 0.25
        while not self._stopping():
            try:
                self.connection.ping()
                break
            except (redis.ConnectionError, redis.TimeoutError):
                pass
            # RQ's SIGTERM handler of a worker lost mid-job flags the stop, then fails to write it to Redis
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError):
                time.sleep(delay)
            delay = min(delay * 2, 5.0)
        if self._stopping():
            return
        with contextlib.suppress(redis.RedisError):
            self.register_death()  # RQ's teardown could not; without it the same name cannot register again
        assert self.liveness is not None
        recovered = self.liveness.reaper.recover_worker(self.name)
        log.warning("PoemWorker %s: Redis is back; %d interrupted job(s) recovered, serving again", self.name,
                    recovered)

    @contextlib.contextmanager
    def _noting_redis_loss(self) -> Iterator[None]:
        """RQ's loop swallows the error and quits; remember it was Redis, so `work` reconnects."""
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            self._lost_redis = exc
            raise

    def heartbeat(self, *args: Any, **kwargs: Any) -> Any:
        with self._noting_redis_loss():
            return super().heartbeat(*args, **kwargs)

    def run_maintenance_tasks(self) -> None:
        with self._noting_redis_loss():
            super().run_maintenance_tasks()

    def check_for_suspension(self, burst: bool) -> None:
        with self._noting_redis_loss():
            super().check_for_suspension(burst)

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None) -> Any:
        # RQ retries a refused connection here by itself, but a Redis *timeout* ends its loop as if
        # the queue were done: noted, so `work` reconnects instead of exiting.
        with self._noting_redis_loss():
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

    def unsubscribe(self) -> None:
        """RQ's version can wait a minute on its pubsub thread under redis-py 8 (see
        `rq_private.unsubscribe`): every exit, burst or SIGTERM, goes through here."""
        rq_private.unsubscribe(self, wake=self._pubsub_stop)

    def _pubsub_exception_handler(self, exc: Exception, pubsub: PubSub, pubsub_thread: PubSubWorkerThread) -> None:
        """RQ's command channel (``rq`` CLI commands) lost Redis: it resubscribes by itself.

        RQ logs that as an ERROR and sleeps 2 s, uninterruptibly: a Redis restart needs nobody, and
        a worker stopping meanwhile must not wait out the sleep. One WARNING line, counted, and a
        pause that `unsubscribe` cuts short.
        """
        if not isinstance(exc, redis.ConnectionError | redis.TimeoutError):
            super()._pubsub_exception_handler(exc, pubsub, pubsub_thread)  # RQ: log and end the thread
            return
        REDIS_RETRIES.labels(part="pubsub").inc()
        now = time.monotonic()
        if now - self._pubsub_warned_at >= 60:  # it retries every 2 s: one line per outage, not thirty a minute
            self._pubsub_warned_at = now
            log.warning("PoemWorker %s: command channel lost Redis (%s); resubscribing", self.name, exc)
        self._pubsub_stop.wait(2.0)

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        """RQ logs every failed attempt as an ERROR with its traceback; one that RQ retries is
        expected and handled, and `jobs.on_job_failure` says so in one counted WARNING line. Only
        the last failure keeps RQ's ERROR and traceback: that one needs an operator."""
        if job.should_retry:
            rq_private.run_exception_handlers(self, job, *exc_info)
            return
        super().handle_exception(job, *exc_info)

    # --- execution ---------------------------------------------------------------------------
    def execute_job(self, job: Job, queue: Queue) -> None:
        if not self._allowed(job):
            log.error("PoemWorker %s: refusing job %s: %s is not a function of %s; failed without running it",
                      self.name, job.id, job.func_name, ", ".join(self.config.worker.job_modules))
            rq_private.refuse_job(self.connection, job, queue, self.name)
            return
        self.health.busy()
        WORKERS_BUSY.set(1)
        try:
            with self._noting_redis_loss():
                self._execute(job, queue)
        finally:
            self.health.idle()
            WORKERS_BUSY.set(0)

    def _execute(self, job: Job, queue: Queue) -> None:
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
        """Waiting poem jobs to serve with this one (others are handed back untouched)."""
        return rq_private.take_waiting(self.connection, queue, limit, JOB_FUNCTION, self.serializer)

    def _execute_batch(self, batch: list[Job], queue: Queue) -> None:
        executions = rq_private.start_batch(self, batch)
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
            error = errors[i]
            if error is None:
                rq_private.finish_batch_job(self, job, queue, executions[job.id], served[i].result())
                continue
            exc_string = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            try:
                rq_private.fail_batch_job(self, job, queue, executions[job.id], error, exc_string)
            except Exception:
                log.exception("PoemWorker %s: failure handling of %s raised", self.name, job.id)
        rq_private.end_batch(self)

    def _record_service_time(self, queue_name: str, seconds: float) -> None:
        """Moving average per job, read by clients to estimate 'try again in N s'."""
        key = keys.service_time(queue_name)
        try:
            old = self.connection.get(key)
            value = seconds * 1000 if old is None else 0.8 * float(old) + 0.2 * seconds * 1000
            self.connection.set(key, f"{value:.1f}", ex=86400)
        except Exception as exc:  # metrics must never fail a job
            log.debug("PoemWorker: could not record service time: %s", exc)

