"""Prometheus metrics for workers and bots (one process, one HTTP port); the bots' game metrics are
`bots.core.metrics`.

Workers update the job, queue and generation metrics. Bots call ``observe_submission`` and
``observe_reply_delivered`` (the ``ReplyConsumer`` does the latter on every ack), so the
reply-delivery lag is measured where the message actually leaves for the chat platform.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import Counter, Gauge, Histogram, make_wsgi_app

from worker.contract.health import Health
from worker.contract.protocol import PoemReply

log = logging.getLogger(__name__)

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

JOBS = Counter(
    "poetcore_jobs_total",
    "Jobs handled by workers, by outcome (ok, failed, bad_input, cancelled, retried, recovered).",
    ["status"],
)
FAILURES = Counter(
    "poetcore_job_failures_total",
    "Requests answered with a failure, by the reply's code (bad_request, no_candidate, timeout, ...).",
    ["code"],
)
QUEUE_DEPTH = Gauge("poetcore_queue_depth", "Jobs waiting in the queue (LLEN rq:queue:<name>).", ["queue"])
WORKERS_ALIVE = Gauge("poetcore_workers_alive", "Poem workers with a live heartbeat.", ["queue"])
WORKERS_BUSY = Gauge("poetcore_workers_busy", "Poem workers in the middle of a job (this process: 0 or 1).")
END_TO_END = Histogram(
    "poetcore_request_latency_seconds",
    "Request created by the bot -> reply published by the worker.",
    buckets=_SECONDS,
)
QUEUE_WAIT = Histogram("poetcore_queue_wait_seconds", "Job enqueued -> job started.", buckets=_SECONDS)
GENERATE = Histogram(
    "poetcore_generate_seconds", "Time inside the composer per generate call.", ["batch"], buckets=_SECONDS
)
BATCH_SIZE = Histogram("poetcore_batch_size", "Requests served per generate call.", buckets=(1, 2, 4, 8, 16, 32, 64))
MODEL_LOAD = Gauge("poetcore_model_load_seconds", "Seconds the worker took to load the composer.", ["device"])
RECOVERY = Histogram(
    "poetcore_recovery_seconds",
    "Worker death noticed -> job back on the queue (measured from the dead worker's last heartbeat).",
    buckets=_SECONDS,
)
SUBMISSIONS = Counter(
    "poetcore_submissions_total", "Bot submissions by outcome (accepted, rate_limited, busy, duplicate).",
    ["platform", "outcome"],
)
REPLY_LAG = Histogram(
    "poetcore_reply_delivery_lag_seconds",
    "Reply published by the worker -> message sent to the chat by the bot.",
    ["platform"],
    buckets=_SECONDS,
)
REPLIES_DELIVERED = Counter(
    "poetcore_replies_delivered_total", "Replies sent to chats by bots.", ["platform", "status"]
)
REPLIES_DUPLICATE = Counter(
    "poetcore_replies_duplicate_total", "Reply stream entries skipped because the request was answered.", ["platform"]
)
REPLIES_RELEASED = Counter(
    "poetcore_replies_released_total",
    "Replies whose send failed and that stay pending for a later retry (ReplyConsumer.release).", ["platform"],
)
REDIS_RETRIES = Counter(
    "poetcore_redis_retries_total",
    "Redis calls that failed on the network and are tried again, each logged as one WARNING line without a "
    "traceback; by the part that retries (worker: RQ's loop, pubsub, liveness, reconnect, replies).",
    ["part"],
)


def observe_submission(platform: str, outcome: str) -> None:
    SUBMISSIONS.labels(platform=platform, outcome=outcome).inc()


def observe_reply_delivered(reply: PoemReply, now: datetime | None = None) -> float:
    """Record one delivered reply; returns the lag in seconds (for logs)."""
    lag = max(0.0, ((now or datetime.now(UTC)) - reply.finished_at).total_seconds())
    REPLY_LAG.labels(platform=reply.platform).observe(lag)
    REPLIES_DELIVERED.labels(platform=reply.platform, status=reply.status).inc()
    return lag


def start_metrics_server(
    port: int, addr: str = "0.0.0.0", *, health: Health | None = None, demand: Callable[[], dict[str, int]] | None = None
) -> int:
    """Serve /metrics (and, when given, /healthz /readyz /livez and /demand) on ``port`` (0 picks a
    free one) from a daemon thread; returns the bound port."""
    metrics_app = make_wsgi_app()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path in ("/healthz", "/readyz", "/livez") and health is not None:
            status = health.status()
            ok = {"/healthz": status["ready"] and status["alive"], "/readyz": status["ready"],
                  "/livez": status["alive"]}[path]
            return _json(start_response, "200 OK" if ok else "503 Service Unavailable", status)
        if path == "/demand" and demand is not None:
            try:
                return _json(start_response, "200 OK", demand())
            except Exception as exc:  # Redis down: say so, KEDA keeps the current scale
                return _json(start_response, "503 Service Unavailable", {"error": str(exc)})
        return metrics_app(environ, start_response)  # type: ignore[no-any-return]

    server = make_server(addr, port, app, _ThreadingWSGIServer, handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    bound = int(server.server_address[1])
    log.info("metrics: serving /metrics%s on %s:%d", " and health" if health else "", addr, bound)
    return bound


def _json(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: not worth a log line
        pass

__all__ = [
    "BATCH_SIZE",
    "END_TO_END",
    "FAILURES",
    "GENERATE",
    "JOBS",
    "MODEL_LOAD",
    "QUEUE_DEPTH",
    "QUEUE_WAIT",
    "RECOVERY",
    "REDIS_RETRIES",
    "REPLIES_DELIVERED",
    "REPLIES_DUPLICATE",
    "REPLIES_RELEASED",
    "REPLY_LAG",
    "SUBMISSIONS",
    "WORKERS_ALIVE",
    "WORKERS_BUSY",
    "observe_reply_delivered",
    "observe_submission",
    "start_metrics_server",
]
