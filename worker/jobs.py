"""RQ job functions. Bots enqueue ``worker.jobs.compose_poem`` by dotted path with one argument,
the ``PoemRequest`` as a JSON dict; the worker publishes the ``PoemReply`` to the reply stream.

Failure policy:

- input the composer rejects (``PoetcoreInputError``: unknown form, bad heads, ...) and requests
  that do not parse are answered with a ``failed`` reply at once and never retried: the job
  itself succeeds;
- any other exception, and the job timeout, propagate to RQ, which retries with back-off
  (``Retry``); ``on_job_failure`` publishes a ``failed`` reply once no retry is left;
- a worker that dies mid-job is handled by the reaper (``worker.reaper``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from pydantic import ValidationError
from rq.exceptions import AbandonedJobError
from rq.job import Job, get_current_job
from rq.timeouts import JobTimeoutException

from poetcore.errors import PoetcoreInputError
from poetcore.request import Poem
from worker.contract.logs import request_context
from worker.contract.metrics import BATCH_SIZE, END_TO_END, FAILURES, GENERATE, JOBS, QUEUE_WAIT
from worker.contract.protocol import PROTOCOL_VERSION, PoemReply, PoemRequest, Timings
from worker.contract.replies import ReplyPublisher
from worker.contract.settings import QueueSettings
from worker.engine import Engine, get_engine

log = logging.getLogger(__name__)

_settings: QueueSettings | None = None


def configure(settings: QueueSettings) -> None:
    """The worker hands its queue settings over at start-up: RQ calls jobs with the job's arguments
    only, and the reply stream's length and TTLs must be the worker's, not defaults."""
    global _settings
    _settings = settings


def _configured() -> QueueSettings:
    if _settings is None:
        raise RuntimeError("worker.jobs is not configured: poem jobs run inside PoemWorker, which configures it")
    return _settings


@dataclass
class Served:
    """Outcome of one request: a published reply, or an exception for RQ to retry/fail."""

    request_id: str | None
    status: str  # ok | failed | bad_input | skipped | error
    entry_id: str | None = None
    error: BaseException | None = None

    def result(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "status": self.status, "reply_entry": self.entry_id}


def _parse(raw: Any, publisher: ReplyPublisher, worker: str | None) -> tuple[PoemRequest | None, Served | None]:
    """Validate one request dict; unparseable ones get a failure reply when they can be routed."""
    routable = isinstance(raw, dict) and isinstance(raw.get("request_id"), str) and isinstance(
        raw.get("platform"), str)
    if isinstance(raw, dict) and raw.get("v", PROTOCOL_VERSION) != PROTOCOL_VERSION:
        code, detail = "unsupported_version", f"protocol v={raw.get('v')!r}, this worker speaks v={PROTOCOL_VERSION}"
    else:
        try:
            return PoemRequest.model_validate(raw), None
        except ValidationError as exc:
            code, detail = "bad_request", str(exc)
    rid = raw.get("request_id") if routable else None
    log.error("jobs: cannot serve request %s: %s", rid, detail, extra={"request_id": rid})
    JOBS.labels(status="bad_input").inc()
    FAILURES.labels(code=code).inc()
    if not routable:
        return None, Served(None, "bad_input")
    try:
        entry = publisher.publish(PoemReply.failure(raw, code, worker=worker))
    except ValidationError:  # not even the routing fields are valid
        return None, Served(rid, "bad_input")
    return None, Served(rid, "bad_input", entry)


def _generate(engine: Engine, reqs: list[PoemRequest]) -> list[Poem | PoetcoreInputError]:
    """Poems or PoetcoreInputErrors, one per request; other exceptions propagate."""
    try:
        return engine.compose_batch([r.compose_request() for r in reqs])
    except PoetcoreInputError as exc:
        if len(reqs) == 1:
            return [exc]
        # A composer that raises for a whole batch: serve one by one so only the bad one fails.
        return [_generate(engine, [r])[0] for r in reqs]


def serve_requests(
    raws: list[Any],
    connection: redis.Redis,
    *,
    queued_ms: list[float | None] | None = None,
    worker: str | None = None,
    engine: Engine | None = None,
) -> list[Served]:
    """Compose and publish replies for several requests with one generate() call."""
    settings = _configured()
    publisher = ReplyPublisher.from_settings(connection, settings)
    queued = queued_ms or [None] * len(raws)
    out: list[Served | None] = [None] * len(raws)
    todo: list[tuple[int, PoemRequest]] = []
    for i, raw in enumerate(raws):
        req, early = _parse(raw, publisher, worker)
        if early is not None:
            out[i] = early
        elif req is not None and publisher.is_answered(req.request_id):
            with request_context(req.request_id):
                log.info("jobs: %s already answered (cancelled or served before); skipping", req.request_id)
            JOBS.labels(status="skipped").inc()
            out[i] = Served(req.request_id, "skipped")
        elif req is not None:
            todo.append((i, req))
    if todo:
        engine = engine or get_engine()
        reqs = [r for _, r in todo]
        start = time.perf_counter()
        try:
            poems = _generate(engine, reqs)
        except Exception as exc:  # transient: let RQ retry each job
            # Not logged here: `on_job_failure` says once per job whether it is retried (WARNING) or
            # failed for good (ERROR, with RQ's traceback); this line would say it twice.
            log.debug("jobs: generation failed for %s", [r.request_id for r in reqs], exc_info=True)
            for i, req in todo:
                out[i] = Served(req.request_id, "error", error=exc)
            return [s for s in out if s is not None]
        gen_s = time.perf_counter() - start
        GENERATE.labels(batch=str(len(reqs))).observe(gen_s)
        BATCH_SIZE.observe(len(reqs))
        for (i, req), poem in zip(todo, poems, strict=True):
            timings = Timings(queued_ms=queued[i], generate_ms=round(gen_s * 1000, 1))
            with request_context(req.request_id):
                if isinstance(poem, PoetcoreInputError):
                    log.info("jobs: %s rejected by the composer: %s (%s)", req.request_id, poem.code, poem.message_en)
                    reply = PoemReply.rejected(req, poem, timings=timings, worker=worker)
                    status = "bad_input"
                    FAILURES.labels(code=poem.code).inc()
                else:
                    reply = PoemReply.ok(req, req.poem_payload(poem), timings=timings, worker=worker)
                    status = "ok"
                entry = publisher.publish(reply)
                JOBS.labels(status=status).inc()
                END_TO_END.observe(max(0.0, (reply.finished_at - req.created_at).total_seconds()))
                log.info("jobs: %s served (%s) in %.0f ms", req.request_id, status, gen_s * 1000,
                         extra={"generate_ms": round(gen_s * 1000, 1), "batch": len(reqs)})
            out[i] = Served(req.request_id, status, entry)
    return [s for s in out if s is not None]


def queued_ms_of(job: Job) -> float | None:
    if job.enqueued_at is None:
        return None
    started = job.started_at or datetime.now(UTC)
    enqueued = job.enqueued_at if job.enqueued_at.tzinfo else job.enqueued_at.replace(tzinfo=UTC)
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    wait = max(0.0, (started - enqueued).total_seconds())
    QUEUE_WAIT.observe(wait)
    return round(wait * 1000, 1)


def compose_poem(request: dict[str, Any]) -> dict[str, Any]:
    """The RQ job: one ``PoemRequest`` dict in, its reply published; returns a small summary."""
    job = get_current_job()
    if job is None:
        raise RuntimeError("compose_poem runs inside an RQ worker; call serve_requests() directly otherwise")
    rid = request.get("request_id") if isinstance(request, dict) else None
    with request_context(rid if isinstance(rid, str) else None):
        served = serve_requests([request], job.connection, queued_ms=[queued_ms_of(job)], worker=job.worker_name)[0]
    if served.error is not None:
        raise served.error
    return served.result()


def failure_code(exc_type: type[BaseException] | None) -> str:
    if exc_type is not None and issubclass(exc_type, JobTimeoutException):
        return "timeout"
    if exc_type is not None and issubclass(exc_type, AbandonedJobError):
        return "worker_crashed"
    return "internal"


def on_job_failure(job: Job, connection: redis.Redis, exc_type: Any, exc_value: Any, tb: Any) -> None:
    """RQ failure callback (every failed attempt): the last one gets a clear failure reply."""
    request = job.args[0] if job.args else None
    rid = request.get("request_id") if isinstance(request, dict) else None
    with request_context(rid):
        if job.should_retry:
            # Expected and handled: one WARNING line, no traceback (PoemWorker.handle_exception keeps
            # RQ's ERROR for the last failure only), counted in poetcore_jobs_total{status="retried"}.
            JOBS.labels(status="retried").inc()
            log.warning("jobs: %s failed (%s: %s); retried, %s retries left", job.id,
                        getattr(exc_type, "__name__", exc_type), exc_value, job.retries_left)
            return
        JOBS.labels(status="failed").inc()
        code = failure_code(exc_type if isinstance(exc_type, type) else None)
        FAILURES.labels(code=code).inc()
        log.error("jobs: %s failed for good (%s); answering %s", job.id, getattr(exc_type, "__name__", exc_type),
                  code)
        if isinstance(request, dict) and rid and isinstance(request.get("platform"), str):
            try:
                reply = PoemReply.failure(request, code, worker=job.worker_name)
            except ValidationError:
                return
            ReplyPublisher.from_settings(connection, _configured()).publish(reply)
