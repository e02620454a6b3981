"""Prometheus metrics for workers and bots (one process, one HTTP port).

Workers update the job, queue and generation metrics. Bots call ``observe_submission`` and
``observe_reply_delivered`` (the ``ReplyConsumer`` does the latter on every ack), so the
reply-delivery lag is measured where the message actually leaves for the chat platform.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from worker.contract.protocol import PoemReply

log = logging.getLogger(__name__)

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

JOBS = Counter(
    "poetcore_jobs_total",
    "Jobs handled by workers, by outcome (ok, failed, bad_input, cancelled, retried, recovered).",
    ["status"],
)
QUEUE_DEPTH = Gauge("poetcore_queue_depth", "Jobs waiting in the queue (LLEN rq:queue:<name>).", ["queue"])
WORKERS_ALIVE = Gauge("poetcore_workers_alive", "Poem workers with a live heartbeat.", ["queue"])
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


def observe_submission(platform: str, outcome: str) -> None:
    SUBMISSIONS.labels(platform=platform, outcome=outcome).inc()


def observe_reply_delivered(reply: PoemReply, now: datetime | None = None) -> float:
    """Record one delivered reply; returns the lag in seconds (for logs)."""
    lag = max(0.0, ((now or datetime.now(UTC)) - reply.finished_at).total_seconds())
    REPLY_LAG.labels(platform=reply.platform).observe(lag)
    REPLIES_DELIVERED.labels(platform=reply.platform, status=reply.status).inc()
    return lag


def start_metrics_server(port: int, addr: str = "0.0.0.0") -> int:
    """Serve /metrics on ``port`` (0 picks a free one); returns the bound port."""
    server, _thread = start_http_server(port, addr=addr)
    bound = int(server.server_address[1])
    log.info("metrics: serving Prometheus metrics on %s:%d", addr, bound)
    return bound

__all__ = [
    "BATCH_SIZE",
    "END_TO_END",
    "GENERATE",
    "JOBS",
    "MODEL_LOAD",
    "QUEUE_DEPTH",
    "QUEUE_WAIT",
    "RECOVERY",
    "REPLIES_DELIVERED",
    "REPLIES_DUPLICATE",
    "REPLY_LAG",
    "SUBMISSIONS",
    "WORKERS_ALIVE",
    "observe_reply_delivered",
    "observe_submission",
    "start_metrics_server",
]
