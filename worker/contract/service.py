"""`PoemService`: what the bots call to submit a poem request, ask where it is, or cancel it.

Admission is one Lua script, so concurrent bots cannot race past a limit:

1. a request id seen in the last ``request_ttl_s`` -> ``duplicate`` (a retried webhook, a
   double click);
2. per-user, then per-chat sliding windows (``user_limit`` per ``user_window_s``, ...) ->
   ``rate_limited`` with the seconds until a slot frees;
3. waiting jobs plus admitted-but-not-yet-pushed ones >= ``max_queue_length`` -> ``busy`` with
   an estimate of when to retry;
4. otherwise the request is recorded, counted and *reserved* (`keys.admitting`), and the job is
   enqueued by dotted path with ``JSONSerializer``, a timeout, ``Retry`` with back-off and a
   failure callback; the reservation is dropped once the job is pushed (or could not be).

The cap is exact: the script reads the queue length but the job is pushed by RQ afterwards, so
without reservations two bots admitting at once both saw 199 and both got in (201 waiting). A
reservation counts a request from its admission until its job is in the list (briefly twice, which
errs on the safe side), and lapses after ``RESERVATION_TTL_MS`` if its bot died in between. Jobs
put back by the reaper or by RQ's retries were admitted before and are not counted again.

Cancellation (owner only) works while the request waits: the job is removed and a ``cancelled``
reply is published to the reply stream, carrying the request's ``route`` so the bot can edit its
"queued" message. Publishing it also closes the request: a worker that had already picked the
job up skips it, and a poem finished in the same instant is dropped, so the user never gets both.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass
from typing import Literal

import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Callback, Job, JobStatus
from rq.serializers import JSONSerializer

from worker.contract import keys
from worker.contract.connection import connect
from worker.contract.logs import request_context
from worker.contract.metrics import observe_submission
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.replies import ReplyPublisher
from worker.contract.settings import JOB_FUNCTION, QueueSettings

log = logging.getLogger(__name__)

FAILURE_CALLBACK = "worker.jobs.on_job_failure"
DEFAULT_SERVICE_S = 2.0  # until a worker has measured one
RESERVATION_TTL_MS = 60_000
"""How long an admitted request holds a queue slot before its job is pushed: far above the two round
trips that takes, so only a bot that died in between lets its slot lapse."""

_ADMIT = """
-- KEYS: request, user window, chat window, queue, reservations (admitted, job not pushed yet)
-- ARGV: request_ttl_s, user_limit, user_window_ms, chat_limit, chat_window_ms, max_queue,
--       request_id, user_id, chat_id, platform, reservation_ttl_ms
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate', 0, ''} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function wait_ms(key, limit, window)
  if limit < 0 then return 0 end  -- no limit; 0 admits none (a group whose send budget is spent)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if oldest[2] == nil then return window end
    return math.max(1, tonumber(oldest[2]) + window - now)
  end
  return 0
end
local ulimit, uwin = tonumber(ARGV[2]), tonumber(ARGV[3])
local climit, cwin = tonumber(ARGV[4]), tonumber(ARGV[5])
local w = wait_ms(KEYS[2], ulimit, uwin)
if w > 0 then return {'rate_limited', w, 'user'} end
w = wait_ms(KEYS[3], climit, cwin)
if w > 0 then return {'rate_limited', w, 'chat'} end
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now)
local depth = redis.call('LLEN', KEYS[4]) + redis.call('ZCARD', KEYS[5])
if depth >= tonumber(ARGV[6]) then return {'busy', depth, ''} end
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[11]), ARGV[7])
redis.call('HSET', KEYS[1], 'user_id', ARGV[8], 'chat_id', ARGV[9], 'platform', ARGV[10], 'state', 'queued')
redis.call('EXPIRE', KEYS[1], ARGV[1])
if ulimit > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[7])
  redis.call('PEXPIRE', KEYS[2], uwin)
end
if climit > 0 then
  redis.call('ZADD', KEYS[3], now, ARGV[7])
  redis.call('PEXPIRE', KEYS[3], cwin)
end
return {'accepted', depth, ''}
"""

Outcome = Literal["accepted", "rate_limited", "busy", "duplicate"]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclass(frozen=True)
class SubmitResult:
    """Answer to ``submit``: ``accepted`` with a 1-based queue position, or why not."""

    outcome: Outcome
    request_id: str
    position: int | None = None
    retry_after_s: int | None = None
    scope: Literal["user", "chat"] | None = None  # which limit, when rate_limited

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"


RequestState = Literal["queued", "running", "done", "failed", "cancelled", "unknown"]


@dataclass(frozen=True)
class RequestStatus:
    request_id: str
    state: RequestState
    position: int | None = None  # 1-based, only while queued
    queue_length: int = 0


CancelOutcome = Literal["cancelled", "not_found", "forbidden", "running", "finished"]


@dataclass(frozen=True)
class CancelResult:
    request_id: str
    outcome: CancelOutcome
    request: PoemRequest | None = None  # what was cancelled (only when ``cancelled``), so the bot can name it

    @property
    def cancelled(self) -> bool:
        return self.outcome == "cancelled"


@dataclass(frozen=True)
class QueueInfo:
    waiting: int
    running: int
    workers: int


_WAITING = {JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED}
_STATE_OF: dict[JobStatus, RequestState] = {
    JobStatus.STARTED: "running",
    JobStatus.FINISHED: "done",
    JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed",
    JobStatus.CANCELED: "cancelled",
}


def _as_request(payload: object) -> PoemRequest | None:
    """The job's request, as submitted (None if a payload of another version does not read)."""
    if isinstance(payload, PoemRequest):
        return payload
    try:
        return PoemRequest.model_validate(payload)
    except ValueError:
        return None


class PoemService:
    """Sync API over one Redis connection (each call is one or two round trips).

    From asyncio code use ``AsyncPoemService``, which runs these calls in a thread.
    """

    def __init__(self, connection: redis.Redis, settings: QueueSettings, *, job_function: str = JOB_FUNCTION) -> None:
        self.connection = connection
        self.settings = settings
        self.queue = Queue(self.settings.queue, connection=connection, serializer=JSONSerializer)
        self.job_function = job_function
        self.publisher = ReplyPublisher.from_settings(connection, self.settings)
        self._admit = connection.register_script(_ADMIT)

    @classmethod
    def from_url(cls, url: str, settings: QueueSettings) -> PoemService:
        return cls(connect(url), settings)

    # --- submit ------------------------------------------------------------------------------
    def submit(self, request: PoemRequest, chat_limit: int | None = None) -> SubmitResult:
        """Admit and enqueue ``request`` in one step, or say why not.

        ``chat_limit``: the most requests this chat may have admitted in the chat window, when the
        caller knows better than the settings (a group's send budget, `bots.core.admission`); 0
        admits none. The settings' own 0 means "no limit".
        """
        s = self.settings
        rid = request.request_id
        user_cap = s.user_limit or -1
        chat_cap = (s.chat_limit or -1) if chat_limit is None else max(0, chat_limit)
        if chat_limit is not None and s.chat_limit:
            chat_cap = min(chat_cap, s.chat_limit)
        outcome, value, scope = self._admit(
            keys=[
                keys.request(rid),
                keys.user_window(request.platform, request.user_id),
                keys.chat_window(request.platform, request.chat_id),
                self.queue.key,
                keys.admitting(s.queue),
            ],
            args=[s.request_ttl_s, user_cap, s.user_window_s * 1000, chat_cap, s.chat_window_s * 1000,
                  s.max_queue_length, rid, request.user_id, request.chat_id, request.platform, RESERVATION_TTL_MS],
        )
        outcome = _text(outcome)
        scope = _text(scope) or None
        observe_submission(request.platform, outcome)
        with request_context(rid):
            if outcome == "duplicate":
                log.info("client: duplicate request %s ignored", rid)
                return SubmitResult("duplicate", rid, position=self.position(rid))
            if outcome == "rate_limited":
                wait = max(1, math.ceil(int(value) / 1000))
                log.info("client: %s %s rate-limited for %d s", scope, rid, wait)
                return SubmitResult("rate_limited", rid, retry_after_s=wait, scope=scope)  # type: ignore[arg-type]
            if outcome == "busy":
                wait = self.busy_retry_after_s(int(value))
                log.warning("client: queue %s full (%d waiting); %s turned away for %d s", s.queue, value, rid, wait)
                return SubmitResult("busy", rid, retry_after_s=wait)
            try:
                self._enqueue(request)
            except Exception:
                self._forget(request)
                raise
            self.connection.zrem(keys.admitting(s.queue), rid)  # now counted by the queue itself
            position = self.position(rid)
            log.info("client: accepted %s (%s %s/%s) at position %s", rid, request.platform, request.chat_id,
                     request.user_id, position)
            return SubmitResult("accepted", rid, position=position)

    def _enqueue(self, request: PoemRequest) -> Job:
        s = self.settings
        retry = Retry(max=s.retry_max, interval=s.retry_intervals_s) if s.retry_max else None
        return self.queue.enqueue_call(
            self.job_function,
            args=(request.model_dump(mode="json"),),
            job_id=request.request_id,
            timeout=s.job_timeout_s,
            result_ttl=s.result_ttl_s,
            failure_ttl=s.failure_ttl_s,
            retry=retry,
            on_failure=Callback(FAILURE_CALLBACK),
            description=f"{request.kind} {request.form} for {request.platform}:{request.chat_id}",
        )

    def _forget(self, request: PoemRequest) -> None:
        """Undo the admission bookkeeping of a request that could not be enqueued."""
        with self.connection.pipeline() as pipe:
            pipe.delete(keys.request(request.request_id))
            pipe.zrem(keys.user_window(request.platform, request.user_id), request.request_id)
            pipe.zrem(keys.chat_window(request.platform, request.chat_id), request.request_id)
            pipe.zrem(keys.admitting(self.settings.queue), request.request_id)
            pipe.execute()

    def busy_retry_after_s(self, depth: int) -> int:
        """Seconds until the waiting jobs are served: measured service time × depth / live workers.

        Not the time until one slot frees (a few seconds at most): a user who comes back then would
        wait behind the same queue. Bounded to 10 minutes.
        """
        raw = self.connection.get(keys.service_time(self.settings.queue))
        service_s = float(raw) / 1000 if raw else DEFAULT_SERVICE_S
        workers = max(1, self.workers_alive())
        return int(min(600, max(1, math.ceil(service_s * depth / workers))))

    # --- queries -----------------------------------------------------------------------------
    def queue_length(self) -> int:
        """Requests waiting (not yet picked up by a worker)."""
        return int(self.connection.llen(self.queue.key))

    def position(self, request_id: str) -> int | None:
        """1-based position among waiting requests; None when not waiting."""
        index = self.queue.get_job_position(request_id)
        return None if index is None else index + 1

    def workers_alive(self) -> int:
        names = self.connection.smembers(keys.workers(self.settings.queue))
        if not names:
            return 0
        with self.connection.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.exists(keys.alive(_text(name)))
            return sum(pipe.execute())

    def info(self) -> QueueInfo:
        return QueueInfo(
            waiting=self.queue_length(),
            running=self.queue.started_job_registry.get_job_count(cleanup=False),
            workers=self.workers_alive(),
        )

    def status(self, request_id: str) -> RequestStatus:
        length = self.queue_length()
        try:
            job = Job.fetch(request_id, connection=self.connection, serializer=JSONSerializer)
        except (NoSuchJobError, ValueError):
            # The job hash expires after result_ttl; the published marker outlives it.
            answered = self.publisher.is_answered(request_id)
            return RequestStatus(request_id, "done" if answered else "unknown", queue_length=length)
        status = job.get_status(refresh=False)
        if status in _WAITING:
            position = self.position(request_id)
            if position is None and status == JobStatus.QUEUED:
                return RequestStatus(request_id, "running", queue_length=length)  # being picked up
            return RequestStatus(request_id, "queued", position=position, queue_length=length)
        return RequestStatus(request_id, _STATE_OF.get(status, "unknown"), queue_length=length)

    # --- cancel ------------------------------------------------------------------------------
    def cancel(self, request_id: str, user_id: str | int) -> CancelResult:
        """Cancel a waiting request on behalf of ``user_id`` (only its owner may)."""
        owner = self.connection.hgetall(keys.request(request_id))
        if not owner:
            return CancelResult(request_id, "not_found")
        fields = {_text(k): _text(v) for k, v in owner.items()}
        if fields.get("user_id") != str(user_id):
            return CancelResult(request_id, "forbidden")
        try:
            job = Job.fetch(request_id, connection=self.connection, serializer=JSONSerializer)
        except NoSuchJobError:
            return CancelResult(request_id, "finished")
        status = job.get_status(refresh=False)
        if status == JobStatus.STARTED:
            return CancelResult(request_id, "running")
        if status not in _WAITING:
            return CancelResult(request_id, "finished")
        reply = PoemReply.cancelled(job.args[0])
        if self.publisher.publish(reply) is None:
            return CancelResult(request_id, "finished")  # a worker answered first
        job.cancel()
        self.connection.hset(keys.request(request_id), "state", "cancelled")
        with request_context(request_id):
            log.info("client: request %s cancelled by its owner", request_id)
        return CancelResult(request_id, "cancelled", request=_as_request(job.args[0]))


class AsyncPoemService:
    """``PoemService`` for asyncio bots: the same calls, run in a worker thread."""

    def __init__(self, service: PoemService) -> None:
        self.sync = service

    async def submit(self, request: PoemRequest, chat_limit: int | None = None) -> SubmitResult:
        return await asyncio.to_thread(self.sync.submit, request, chat_limit)

    async def status(self, request_id: str) -> RequestStatus:
        return await asyncio.to_thread(self.sync.status, request_id)

    async def position(self, request_id: str) -> int | None:
        return await asyncio.to_thread(self.sync.position, request_id)

    async def queue_length(self) -> int:
        return await asyncio.to_thread(self.sync.queue_length)

    async def info(self) -> QueueInfo:
        return await asyncio.to_thread(self.sync.info)

    async def cancel(self, request_id: str, user_id: str | int) -> CancelResult:
        return await asyncio.to_thread(self.sync.cancel, request_id, user_id)

__all__ = [
    "AsyncPoemService",
    "CancelResult",
    "PoemService",
    "QueueInfo",
    "RequestStatus",
    "SubmitResult",
]
