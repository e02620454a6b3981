"""Prometheus metrics (worker.contract.metrics) and JSON logs with request ids (worker.contract.logs)."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY
from support.settings import make_worker_config

from worker.contract.connection import connect
from worker.contract.logs import JsonFormatter, RequestIdFilter, request_context
from worker.contract.metrics import observe_reply_delivered, start_metrics_server
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.service import PoemService
from worker.worker import PoemWorker


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_endpoint_counts_jobs_and_generation(redis_url: str) -> None:
    config = make_worker_config(composer="noop", user_limit=0, chat_limit=0, log_format="text", max_batch=1)
    s = config.queue
    port = start_metrics_server(0, addr="127.0.0.1")
    ok_before = sample("poetcore_jobs_total", status="ok")
    gen_before = sample("poetcore_generate_seconds_count", batch="1")
    accepted_before = sample("poetcore_submissions_total", platform="console", outcome="accepted")
    svc = PoemService.from_url(redis_url, s)
    for _ in range(2):
        svc.submit(PoemRequest(platform="console", chat_id="1", user_id="1", topic="竹"))
    PoemWorker(connection=connect(redis_url), config=config).work(burst=True)
    assert sample("poetcore_jobs_total", status="ok") == ok_before + 2
    assert sample("poetcore_generate_seconds_count", batch="1") == gen_before + 2
    assert sample("poetcore_submissions_total", platform="console", outcome="accepted") == accepted_before + 2
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for name in ("poetcore_jobs_total", "poetcore_queue_depth", "poetcore_request_latency_seconds",
                 "poetcore_generate_seconds", "poetcore_model_load_seconds", "poetcore_reply_delivery_lag_seconds",
                 "poetcore_queue_wait_seconds"):
        assert name in body


def test_reply_delivery_lag_is_observed_by_the_bot_side() -> None:
    req = PoemRequest(platform="discord", chat_id="1", user_id="1", topic="竹")
    reply = PoemReply.failure(req, "internal")
    before = sample("poetcore_reply_delivery_lag_seconds_count", platform="discord")
    lag = observe_reply_delivered(reply, now=reply.finished_at + timedelta(seconds=2.5))
    assert lag == 2.5
    assert sample("poetcore_reply_delivery_lag_seconds_count", platform="discord") == before + 1
    assert sample("poetcore_replies_delivered_total", platform="discord", status="failed") >= 1


def test_json_logs_carry_the_request_id() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("test.json")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with request_context("req-123"):
            log.info("serving %s", "秋月", extra={"batch": 2})
        log.info("outside")
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    first, second, third = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["request_id"] == "req-123" and first["msg"] == "serving 秋月" and first["batch"] == 2
    assert datetime.fromisoformat(first["ts"]).tzinfo == UTC
    assert "request_id" not in second and second["level"] == "INFO"
    assert "ValueError: boom" in third["exc"]
