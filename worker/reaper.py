"""Liveness heartbeats and prompt recovery of jobs whose worker died.

RQ notices a worker killed with -9 only when the job's entry in the StartedJobRegistry expires
(job timeout + 60 s for a ``SimpleWorker``) *and* some worker runs maintenance (default every
10 min). Far too slow for a chat. Instead, every Poetcore worker runs a ``Liveness`` thread that:

1. refreshes ``poetcore:alive:<worker>`` every ``heartbeat_interval_s`` with a TTL of
   ``liveness_ttl_s`` (a thread, so it keeps beating while the main thread generates);
2. reaps, under a short per-queue lock so one worker does it at a time:

   - started jobs whose execution belongs to a Poetcore worker with no alive key: the entry is
     removed from the StartedJobRegistry (``ZREM`` decides who owns the recovery) and the job is
     pushed back to the *front* of its queue. After ``crash_retries`` recoveries the job fails
     with a ``worker_crashed`` reply instead, so a request that kills workers cannot loop;
   - jobs moved to the intermediate list by ``BLMOVE`` but never started (killed in between);
   - retries whose back-off elapsed (ScheduledJobRegistry), so no separate RQ scheduler process
     is needed (why not RQ's scheduler: see `worker.rq_private`);

3. updates the queue-depth and workers-alive gauges.

Recovery time is therefore about ``liveness_ttl_s`` + one ``heartbeat_interval_s``: every live
worker reaps once per heartbeat (the lock only keeps two passes from overlapping and is released
after each), and a dead worker stays on the roster until its jobs are recovered. Each recovery
records in the job's meta when it happened, when the dead worker's liveness lapsed, and in which
of this reaper's passes since the lapse (``recovery_passes``: 1 = the first). A worker
that is only paused (SIGSTOP, swap storm) longer than ``liveness_ttl_s`` is treated as dead; if it
resumes, the job runs twice and reply de-duplication keeps the user's answer single.
Jobs of workers that are not Poetcore workers are left to RQ's own maintenance.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from typing import Any

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.utils import current_timestamp

from worker import rq_private
from worker.contract import keys
from worker.contract.health import Health
from worker.contract.metrics import JOBS, QUEUE_DEPTH, RECOVERY, REDIS_RETRIES, WORKERS_ALIVE
from worker.contract.protocol import PoemReply
from worker.contract.replies import ReplyPublisher
from worker.contract.settings import QueueSettings

log = logging.getLogger(__name__)


_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class Reaper:
    """One reaping pass over a set of queues (stateless apart from the Redis connection)."""

    def __init__(self, connection: redis.Redis, queue_names: list[str], settings: QueueSettings) -> None:
        self.connection = connection
        self.settings = settings
        self.queues = [Queue(n, connection=connection, serializer=JSONSerializer) for n in queue_names]
        self.publisher = ReplyPublisher.from_settings(connection, settings)
        self._unlock = connection.register_script(_UNLOCK)
        self._pass_starts: deque[float] = deque(maxlen=64)  # wall clock: compared with other workers' beats

    def run_once(self) -> int:
        """Reap every queue whose lock we get; returns how many jobs were recovered or failed.

        The lock is released at the end of the pass, so the next live worker's pass (at most one
        heartbeat later) can reap again; its TTL only bounds the wait when a holder dies mid-pass.
        It used to be held for two heartbeats and never released, so a pass could be skipped.
        """
        self._pass_starts.append(time.time())
        done = 0
        lock_ms = max(int(self.settings.heartbeat_interval_s * 2000), 500)
        for queue in self.queues:
            lock, token = keys.reaper_lock(queue.name), uuid.uuid4().hex
            if self.connection.set(lock, token, nx=True, px=lock_ms):
                try:
                    done += self._reap(queue)
                finally:
                    self._unlock(keys=[lock], args=[token])
            self._update_gauges(queue)
        return done

    def _reap(self, queue: Queue) -> int:
        """One queue's pass, judging every worker once: reaping and forgetting must agree.

        Each worker's liveness is read once, before the started jobs are listed. The pass used to
        read it twice: a worker whose key lapsed between the reaping step (still alive) and the
        roster clean-up (now dead) left the roster with its job still started, and no reaper took
        that job again (only RQ's own maintenance, minutes later).
        """
        roster = {_text(n) for n in self.connection.smembers(keys.workers(queue.name))}
        alive = {name: self.is_alive(name) for name in roster}
        started = rq_private.started_job_ids(self.connection, queue)
        done = self._reap_started(queue, started, alive)
        done += self._reap_intermediate(queue, {job_id for _composite, job_id in started})
        self._enqueue_due_retries(queue)
        self._forget_dead_workers(queue, [name for name, live in alive.items() if not live])
        return done

    def recover_worker(self, worker_name: str) -> int:
        """Recover the started jobs of ``worker_name`` whatever its liveness: that worker itself lost
        Redis mid-job and asks for its interrupted job to be served again."""
        done = 0
        for queue in self.queues:
            for composite, job_id in rq_private.started_job_ids(self.connection, queue):
                if rq_private.execution_owner(self.connection, composite, job_id) != worker_name:
                    continue
                if rq_private.claim_started(self.connection, queue, composite, job_id):
                    done += self._recover(queue, job_id, worker_name)
        return done

    def is_alive(self, worker_name: str) -> bool:
        return bool(self.connection.exists(keys.alive(worker_name)))

    def _reap_started(self, queue: Queue, started: list[tuple[str, str]], alive: dict[str, bool]) -> int:
        """Started jobs of dead Poetcore workers (``alive`` holds the roster: a worker not in it is
        not ours, and RQ's own maintenance handles its jobs)."""
        done = 0
        for composite, job_id in started:
            owner = rq_private.execution_owner(self.connection, composite, job_id)
            if not owner or alive.get(owner, True):
                continue
            if not rq_private.claim_started(self.connection, queue, composite, job_id):
                continue  # another reaper got it
            done += self._recover(queue, job_id, owner)
        return done

    def _reap_intermediate(self, queue: Queue, started: set[str]) -> int:
        """Jobs popped by BLMOVE whose worker died before registering them as started."""
        seen_key = keys.stuck_seen(queue.name)
        ids = [_text(x) for x in self.connection.lrange(queue.intermediate_queue_key, 0, -1)]
        now_ms = int(time.time() * 1000)
        grace_ms = int(self.settings.liveness_ttl_s * 1000)
        done = 0
        for job_id in ids:
            if job_id in started:
                continue
            self.connection.hsetnx(seen_key, job_id, now_ms)
            first = int(self.connection.hget(seen_key, job_id) or now_ms)
            if now_ms - first < grace_ms:
                continue
            if self.connection.lrem(queue.intermediate_queue_key, 1, job_id):
                done += self._recover(queue, job_id, "")
            self.connection.hdel(seen_key, job_id)
        # forget entries that left the intermediate list normally
        known = {_text(k) for k in self.connection.hkeys(seen_key)}
        gone = known - set(ids)
        if gone:
            self.connection.hdel(seen_key, *gone)
        return done

    def _recover(self, queue: Queue, job_id: str, dead_worker: str) -> int:
        try:
            job = Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            return 0
        crashes = int(job.meta.get("crashes", 0)) + 1
        now = time.time()
        last_beat = self._last_beat(dead_worker)
        since = None if last_beat is None else max(0.0, now - last_beat)
        lapsed_at = None if last_beat is None else last_beat + self.settings.liveness_ttl_s
        passes = None  # this reaper's passes since the lapse (1 = the first); None outside its passes
        if lapsed_at is not None and self._pass_starts:
            passes = sum(1 for t in self._pass_starts if t >= lapsed_at) or 1
        job.meta.update(crashes=crashes, recovered_at=now, lapsed_at=lapsed_at, recovery_passes=passes)
        request = job.args[0] if job.args else {}
        rid = request.get("request_id") if isinstance(request, dict) else None
        if crashes > self.settings.crash_retries:
            log.error("reaper: job %s lost its worker %s %d times; failing it", job_id, dead_worker or "?", crashes,
                      extra={"request_id": rid})
            rq_private.fail_job(self.connection, job, f"worker died {crashes} times while running this job",
                                dead_worker)
            JOBS.labels(status="failed").inc()
            if isinstance(request, dict) and rid:
                self.publisher.publish(PoemReply.failure(request, "worker_crashed"))
            return 1
        rq_private.requeue_at_front(queue, job)
        JOBS.labels(status="recovered").inc()
        if since is not None:
            RECOVERY.observe(since)
        log.warning("reaper: worker %s died running %s; requeued at the front (%.2f s after its last heartbeat, "
                    "pass %s after its liveness lapsed)", dead_worker or "?", job_id,
                    since if since is not None else -1.0, passes if passes is not None else "?",
                    extra={"request_id": rid})
        return 1

    def _last_beat(self, worker_name: str) -> float | None:
        """Wall-clock time of the worker's last heartbeat, while it is on the roster."""
        if not worker_name:
            return None
        for queue in self.queues:
            raw = self.connection.hget(keys.worker_beats(queue.name), worker_name)
            if raw:
                return float(raw)
        return None

    def _enqueue_due_retries(self, queue: Queue) -> None:
        registry = queue.scheduled_job_registry
        for job_id in registry.get_jobs_to_schedule(current_timestamp()):
            if not self.connection.zrem(registry.key, job_id):
                continue
            try:
                job = Job.fetch(job_id, connection=self.connection, serializer=JSONSerializer)
            except NoSuchJobError:
                continue
            rq_private.enqueue_due_retry(queue, job)
            log.info("reaper: retry of %s is due; enqueued", job_id)

    def _forget_dead_workers(self, queue: Queue, dead: list[str]) -> None:
        """Drop dead workers from the roster once none of their started jobs remain to recover.

        ``dead`` were judged dead before the started jobs of this pass were listed, and those jobs
        were all claimed in it; a job the listing missed keeps its owner on the roster here.
        """
        if not dead:
            return
        owners = {rq_private.execution_owner(self.connection, composite, job_id)
                  for composite, job_id in rq_private.started_job_ids(self.connection, queue)}
        for name in dead:
            if name in owners:
                continue
            self.connection.srem(keys.workers(queue.name), name)
            self.connection.hdel(keys.worker_beats(queue.name), name)

    def _update_gauges(self, queue: Queue) -> None:
        """Every worker exports the queue depth and live workers it sees (cheap reads)."""
        names = [_text(n) for n in self.connection.smembers(keys.workers(queue.name))]
        WORKERS_ALIVE.labels(queue=queue.name).set(sum(self.is_alive(n) for n in names))
        QUEUE_DEPTH.labels(queue=queue.name).set(self.connection.llen(queue.key))


class Liveness:
    """Background thread of one worker: heartbeat, then reap, every ``heartbeat_interval_s``."""

    def __init__(self, connection: redis.Redis, worker_name: str, queue_names: list[str],
                 settings: QueueSettings, health: Health | None = None) -> None:
        self.connection = connection
        self.health = health
        self.worker_name = worker_name
        self.queue_names = queue_names
        self.settings = settings
        self.reaper = Reaper(connection, queue_names, settings)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"liveness-{worker_name}", daemon=True)

    def beat(self) -> None:
        ttl_ms = int(self.settings.liveness_ttl_s * 1000)
        with self.connection.pipeline() as pipe:
            pipe.set(keys.alive(self.worker_name), str(time.time()), px=ttl_ms)
            for name in self.queue_names:
                pipe.sadd(keys.workers(name), self.worker_name)
                pipe.hset(keys.worker_beats(name), self.worker_name, str(time.time()))
            pipe.execute()

    def start(self) -> Liveness:
        self.beat()  # alive before the first job can be taken
        self._thread.start()
        return self

    def _run(self) -> None:
        # After losing Redis, every worker's alive key may have lapsed: wait one liveness TTL of
        # good beats before judging others, so they get the chance to beat again first.
        healthy_since: float | None = time.monotonic()
        while not self._stop.wait(self.settings.heartbeat_interval_s):
            if self.health is not None and not self.health.alive():
                # The work loop is stuck (e.g. inside a CUDA call): stop vouching for it, so the
                # alive key lapses and the other workers recover its job as after a crash.
                log.error("liveness: %s busy for %.0f s (> %.0f s): no longer beating", self.worker_name,
                          self.health.busy_for(), self.health.stall_after_s)
                continue
            try:
                self.beat()
                if healthy_since is None:
                    log.info("liveness: %s reaches Redis again; beating", self.worker_name)
                    healthy_since = time.monotonic()
                elif time.monotonic() - healthy_since >= self.settings.liveness_ttl_s:
                    self.reaper.run_once()
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                # A Redis restart is expected and handled: one WARNING per outage, every retry counted.
                REDIS_RETRIES.labels(part="liveness").inc()
                if healthy_since is not None:
                    log.warning("liveness: %s cannot reach Redis (%s); retrying every %.1f s", self.worker_name,
                                exc, self.settings.heartbeat_interval_s)
                healthy_since = None
            except Exception:
                log.exception("liveness: reaper pass failed")

    def stop(self, *, deregister: bool = True) -> None:
        """Stop beating. ``deregister`` (a clean exit) also leaves the roster; without it (a cold
        shutdown mid-job) the worker looks dead at once, so its job is recovered without waiting
        for the liveness TTL."""
        self._stop.set()
        self._thread.join(timeout=self.settings.heartbeat_interval_s * 2 + 5)
        try:
            with self.connection.pipeline() as pipe:
                pipe.delete(keys.alive(self.worker_name))
                if deregister:
                    for name in self.queue_names:
                        pipe.srem(keys.workers(name), self.worker_name)
                        pipe.hdel(keys.worker_beats(name), self.worker_name)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("liveness: could not deregister %s: %s", self.worker_name, exc)
