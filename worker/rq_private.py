"""Every use of RQ's private API, fenced in one module and pinned to the RQ it was written for.

Batching (one ``generate()`` for several jobs) and prompt crash recovery need bookkeeping that RQ
does only inside ``Worker.execute_job`` and its own maintenance: executions, started-registry
entries, ``_enqueue_job``, ``_handle_failure``, the ``rq:execution:*`` hashes. Nothing else in
Poetcore touches those. Importing this module on an RQ whose major.minor differs from
`TESTED_RQ` raises `RQVersionError`: upgrade RQ only together with this file and its tests.

Why not RQ's scheduler for due retries: ``RQScheduler.start()`` forks a process, and forking a
worker that holds torch threads or a CUDA context is unsafe; driven in-process instead, it holds
each queue's lock for ``interval + 60`` s, so a worker that dies holding it stalls every retry for
about a minute. The reaper's due-retry pass runs under a lock of two heartbeats, so retries keep
their 2 s / 10 s back-off even right after a worker died. It enqueues with RQ's own
``_enqueue_job``, the same call RQ's scheduler makes.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import redis
import rq
from rq import Queue, worker_registration
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.utils import now, parse_composite_key
from rq.worker import BaseWorker, WorkerStatus

from worker.contract import keys
from worker.contract.metrics import REDIS_RETRIES

log = logging.getLogger(__name__)

TESTED_RQ = "2.12"
"""The RQ release (major.minor) whose internals this module was written and tested against."""


class RQVersionError(RuntimeError):
    """The installed RQ is not the one this module's private calls were written for."""


def check_rq_version(version: str = rq.__version__) -> None:
    if version.split(".")[:2] != TESTED_RQ.split("."):
        raise RQVersionError(
            f"Poetcore's worker uses RQ {TESTED_RQ} internals (worker/rq_private.py) but RQ {version} is "
            f"installed; install rq=={TESTED_RQ}.* (see pyproject.toml) or port rq_private.py and its tests"
        )


check_rq_version()


# --- the started registry and executions (recovery) ------------------------------------------
def started_job_ids(connection: redis.Redis, queue: Queue) -> list[tuple[str, str]]:
    """(composite key, job id) of every entry in the queue's StartedJobRegistry."""
    out = []
    for raw in connection.zrange(queue.started_job_registry.key, 0, -1):
        composite = raw.decode() if isinstance(raw, bytes) else str(raw)
        job_id, _execution = parse_composite_key(composite)
        out.append((composite, job_id))
    return out


def execution_owner(connection: redis.Redis, composite: str, job_id: str) -> str:
    """The worker name recorded for an execution, falling back to the job hash."""
    for key in (keys.rq_execution(composite), keys.rq_job(job_id)):
        raw = connection.hget(key, "worker_name")
        if raw:
            return raw.decode() if isinstance(raw, bytes) else str(raw)
    return ""


def claim_started(connection: redis.Redis, queue: Queue, composite: str, job_id: str) -> bool:
    """Take a dead worker's execution out of RQ's books; False when another reaper took it first."""
    if not connection.zrem(queue.started_job_registry.key, composite):
        return False
    connection.delete(keys.rq_execution(composite))
    connection.lrem(queue.intermediate_queue_key, 0, job_id)
    return True


def requeue_at_front(queue: Queue, job: Job) -> None:
    """Put a recovered job back at the head of its queue (saves its meta too)."""
    job.started_at = None
    job.ended_at = None
    queue._enqueue_job(job, at_front=True)


def enqueue_due_retry(queue: Queue, job: Job) -> None:
    """What RQ's scheduler does with a retry whose back-off elapsed."""
    queue._enqueue_job(job, at_front=job.should_enqueue_at_front())


def fail_job(connection: redis.Redis, job: Job, reason: str, worker_name: str) -> None:
    """Mark a job FAILED with RQ's own failure bookkeeping (registry, TTL, exc info)."""
    with connection.pipeline() as pipe:
        job.set_status(JobStatus.FAILED, pipeline=pipe)
        job.save_meta()
        job._handle_failure(reason, pipe, worker_name=worker_name)
        pipe.execute()


def callback_names(job: Job) -> list[str]:
    """Dotted paths of the job's success/failure/stopped callbacks (RQ imports and runs them)."""
    names = (job._success_callback_name, job._failure_callback_name, job._stopped_callback_name)
    return [n for n in names if n]


def refuse_job(connection: redis.Redis, job: Job, queue: Queue, worker_name: str) -> None:
    """Fail a dequeued job without running it or any of its callbacks."""
    connection.lrem(queue.intermediate_queue_key, 1, job.id)
    fail_job(connection, job, "refused: not a Poetcore job function", worker_name)


# --- batches: several jobs, one generate() ---------------------------------------------------
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


def take_waiting(connection: redis.Redis, queue: Queue, limit: int, func_name: str, serializer: Any) -> list[Job]:
    """Move up to ``limit`` waiting jobs running ``func_name`` to the intermediate list, as BLMOVE does
    for one; jobs of other functions go back to the front of the queue untouched."""
    ids = connection.register_script(_DRAIN)(keys=[queue.key, queue.intermediate_queue_key], args=[limit])
    taken: list[Job] = []
    for raw in ids:
        job_id = raw.decode() if isinstance(raw, bytes) else raw
        try:
            job = Job.fetch(job_id, connection=connection, serializer=serializer)
        except NoSuchJobError:
            connection.lrem(queue.intermediate_queue_key, 1, job_id)
            continue
        cancelled = job.get_status(refresh=False) == JobStatus.CANCELED
        if job.func_name != func_name or cancelled:
            with connection.pipeline() as pipe:
                pipe.lrem(queue.intermediate_queue_key, 1, job_id)
                if not cancelled:
                    pipe.lpush(queue.key, job_id)
                pipe.execute()
            continue
        taken.append(job)
    return taken


def start_batch(worker: BaseWorker, jobs: list[Job]) -> dict[str, Any]:
    """RQ's per-job start bookkeeping for jobs served together; returns their executions."""
    executions = {}
    for job in jobs:
        executions[job.id] = worker.prepare_execution(job)
        worker.prepare_job_execution(job, remove_from_intermediate_queue=True)
        job.started_at = now()
    return executions


def finish_batch_job(worker: BaseWorker, job: Job, queue: Queue, execution: Any, result: Any) -> None:
    worker.execution = execution
    worker.handle_execution_ended(job, queue, job.success_callback_timeout)
    job._result = result
    job._status = JobStatus.FINISHED
    worker.handle_job_success(job=job, queue=queue, started_job_registry=queue.started_job_registry)


def fail_batch_job(worker: BaseWorker, job: Job, queue: Queue, execution: Any, error: BaseException,
                   exc_string: str) -> None:
    """Failure callback, then RQ's failure/retry handling, as ``execute_job`` would do."""
    worker.execution = execution
    worker.handle_execution_ended(job, queue, job.success_callback_timeout)
    job._status = JobStatus.FAILED
    exc_info = (type(error), error, error.__traceback__)
    try:
        job.execute_failure_callback(worker.death_penalty_class, *exc_info)
    finally:
        worker.handle_exception(job, *exc_info)
        worker.handle_job_failure(job=job, queue=queue, started_job_registry=queue.started_job_registry,
                                  exc_string=exc_string)


def end_batch(worker: BaseWorker) -> None:
    worker.set_state(WorkerStatus.IDLE)


PRIVATE_NAMES: dict[type, tuple[str, ...]] = {
    Queue: ("_enqueue_job", "intermediate_queue_key"),
    Job: ("_handle_failure", "execute_failure_callback", "should_enqueue_at_front"),
    BaseWorker: (
        "prepare_execution", "prepare_job_execution", "handle_execution_ended", "handle_job_success",
        "handle_exception", "handle_job_failure", "set_state", "dequeue_job_and_maintain_ttl",
        "_install_signal_handlers", "get_state", "unsubscribe", "subscribe", "pubsub_channel_name",
        "_pubsub_exception_handler", "request_stop",
    ),
}
"""The private or undocumented RQ members used here and in `worker.worker` (checked by a test)."""


def drop_registration(worker: BaseWorker) -> None:
    """Delete a (dead) worker's RQ key and roster entries, so a new worker may take its name.

    RQ only does this in ``register_death`` of the same process; after ``kill -9`` the key stays
    until its TTL (minutes) runs out.
    """

    with worker.connection.pipeline() as pipe:
        pipe.delete(worker.key)
        worker_registration.unregister(worker, pipeline=pipe)
        pipe.execute()


# --- the command channel (RQ's pubsub thread) ------------------------------------------------
def quiet_redis_retries(worker: BaseWorker) -> None:
    """Route RQ's worker log lines through `RedisRetriesLog` (see there why)."""
    if not isinstance(worker.log, RedisRetriesLog):
        worker.log = RedisRetriesLog(worker.log)  # type: ignore[assignment]


def unsubscribe(worker: BaseWorker, wake: Any = None) -> None:
    """RQ's ``unsubscribe`` without its shutdown hang under redis-py 8.

    RQ 2.12 sends UNSUBSCRIBE, then calls ``PubSubWorkerThread.stop()``, then joins for 1 s. Since
    redis-py 8, ``stop()`` itself joins the reader with no time limit. The reader waits in
    ``get_message(timeout=60)``: when the UNSUBSCRIBE reply wakes it *before* ``stop()`` has
    cleared its run flag, it goes round again, finds no subscription and waits the full 60 s on
    it, and so does ``stop()``. That race hung workers for a minute after "done, quitting" (one
    ``--gpus`` run in ten here, and its parent with it; most in-process test workers) or after a
    SIGTERM (30 s until the supervisor's second signal). Clearing the flag first, without waiting,
    means the reply that wakes the reader also ends it; the join stays bounded. ``wake`` (an
    ``Event``) is set after the flag, to end a pause the reader takes after a Redis error.
    """
    thread, pubsub = worker.pubsub_thread, worker.pubsub
    if thread is None or pubsub is None:
        return
    log.info("Worker %s: unsubscribing from channel %s", worker.name, worker.pubsub_channel_name)
    if "timeout" in inspect.signature(thread.stop).parameters:
        thread.stop(timeout=0)  # redis-py >= 8: clears the flag; a zero wait
    else:
        thread.stop()  # redis-py < 8: stop() only ever cleared the flag
    if wake is not None:
        wake.set()
    try:
        pubsub.unsubscribe()
    except (redis.RedisError, OSError, AttributeError) as exc:
        # Redis went away (or the reader, ending, reset the pubsub meanwhile): nothing left to
        # unsubscribe from; Redis drops a subscription with its connection.
        log.info("Worker %s: could not unsubscribe (%s); Redis drops the subscription with the connection",
                 worker.name, exc)
    thread.join(timeout=1)
    if not thread.is_alive():  # a reader still busy (a slow machine, a reconnect) closes it itself on its way out
        pubsub.close()
    worker.pubsub_thread = None


def run_exception_handlers(worker: BaseWorker, job: Job, *exc_info: Any) -> None:
    """The custom exception handlers of ``handle_exception`` (``rq worker --exception-handler``),
    without RQ's ERROR line and traceback: for a failure RQ is about to retry."""
    for handler in worker._exc_handlers:
        if handler(job, *exc_info) is False:  # RQ: only an explicit False stops the chain
            break


# --- RQ's log lines for conditions it (or PoemWorker) handles ---------------------------------
_RETRYING = "Worker %s: could not connect to Redis instance: %s retrying in %d seconds..."
"""RQ's dequeue loop: it sleeps with back-off and tries again by itself."""
_LOOP_ENDED_BY_REDIS = (
    "Worker %s: Redis connection timeout, quitting...",
    "Worker %s: found an unhandled exception, quitting...",
)
"""RQ's work loop ending on a Redis error: ``PoemWorker.work`` reconnects and logs that itself."""


class RedisRetriesLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """RQ's worker logger, with its lines for a Redis blip made what they are: handled.

    RQ 2.12 logs a lost connection in its dequeue loop as an ERROR although it retries by itself,
    and a Redis error that ends its loop as an ERROR with a traceback although ``PoemWorker``
    reconnects. ERROR means an operator must act; a Redis restart needs nobody. The first becomes
    one WARNING line, counted in ``poetcore_redis_retries_total{part="worker"}``; the second drops to
    DEBUG, because the reconnect that follows logs its own WARNING. Everything else passes unchanged.
    """

    def __init__(self, logger: logging.Logger) -> None:
        super().__init__(logger, {})

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if level >= logging.ERROR:
            if msg == _RETRYING:
                REDIS_RETRIES.labels(part="worker").inc()
                level = logging.WARNING
            elif msg in _LOOP_ENDED_BY_REDIS and isinstance(sys.exc_info()[1], redis.ConnectionError
                                                               | redis.TimeoutError):
                level = logging.DEBUG
                kwargs.pop("exc_info", None)
        kwargs.setdefault("stacklevel", 2)  # the line is RQ's, not this adapter's
        super().log(level, msg, *args, **kwargs)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs  # no extra fields: RQ passes its own

    @property
    def level(self) -> int:  # RQ reads ``self.log.level`` when it starts its scheduler
        return self.logger.level
