"""Worker health on the metrics port: ready after the model load, not alive when stuck, demand for KEDA."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from support.queue import make_request, queue_settings
from support.workers import TESTS_DIR, log_text, spawn_worker, wait_until, worker_env

from worker.contract import keys
from worker.contract.connection import connect
from worker.contract.health import Health
from worker.contract.metrics import start_metrics_server
from worker.contract.service import PoemService

pytestmark = pytest.mark.timeout(90)

IMPORT_GATE = TESTS_DIR / "worker" / "import_gate"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_health_endpoints_follow_readiness_and_progress() -> None:
    now = [1000.0]
    health = Health(stall_after_s=0.3, clock=lambda: now[0])  # steps past the stall without sleeping
    port = start_metrics_server(0, addr="127.0.0.1", health=health, demand=lambda: {"waiting": 2, "running": 3,
                                                                                   "demand": 5})
    assert get(port, "/readyz")[0] == 503 and get(port, "/livez")[0] == 200 and get(port, "/healthz")[0] == 503
    health.mark_ready()
    assert get(port, "/healthz") == (200, {"ready": True, "alive": True, "busy_s": 0.0, "waiting_on": []})
    health.busy()
    now[0] += 0.2
    assert get(port, "/livez")[0] == 200
    now[0] += 0.2
    status, body = get(port, "/livez")
    assert status == 503 and not body["alive"] and body["busy_s"] == 0.4
    assert get(port, "/readyz")[0] == 200  # still ready: stuck is a liveness matter
    health.idle()
    assert get(port, "/healthz")[0] == 200
    assert get(port, "/demand") == (200, {"waiting": 2, "running": 3, "demand": 5})
    assert b"poetcore_workers_busy" in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read()


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for p in started:
        if p.poll() is None:
            p.kill()
        p.wait()


def test_a_real_worker_is_ready_only_after_its_model_loads(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    """The metrics port answers 503 while the model loads, 200 after. The load is held at its first
    step (``import torch``) until the test has seen the 503, so no race with the load's speed."""
    port = free_port()
    go = tmp_path / "go"
    pythonpath = os.pathsep.join([str(IMPORT_GATE), worker_env(redis_url)["PYTHONPATH"]])
    procs.append(spawn_worker(redis_url, tmp_path, "loader", "--metrics-port", str(port), composer="real",
                              extra_env={"PYTHONPATH": pythonpath, "TEST_IMPORT_GATE": f"torch:{go}"}))

    def readiness() -> int | None:
        try:
            return get(port, "/readyz")[0]
        except (urllib.error.URLError, ConnectionError):
            return None

    assert wait_until(readiness, 60, what="the metrics port") == 503  # loading: torch not even imported
    assert not redis_client.exists(keys.alive("loader"))
    go.touch()
    wait_until(lambda: readiness() == 200, 60, what="readiness after the load")
    assert "engine: composer loaded from" in log_text(tmp_path, "loader")
    assert get(port, "/demand") == (200, {"waiting": 0, "running": 0, "demand": 0})


def test_a_worker_stuck_in_native_code_stops_vouching_and_its_job_moves_on(
    redis_url: str, redis_client: redis.Redis, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    opts = {"composer": "noop", "job_timeout_s": 1, "stall_margin_s": 1}
    procs.append(spawn_worker(redis_url, tmp_path, "stuck", "--metrics-port", str(port), **opts))
    wait_until(lambda: redis_client.exists(keys.alive("stuck")), 30, what="worker up")
    s = queue_settings(heartbeat_interval_s=0.2, liveness_ttl_s=1.0, job_timeout_s=1)
    svc = PoemService(connect(redis_url), s, job_function="support.jobs.stuck_in_native_code")
    r = make_request(route={"stuck_s": 60})
    assert svc.submit(r).accepted
    wait_until(lambda: get(port, "/demand")[1]["running"] == 1, 10, what="job start")
    # (alive while busy under the bound: the unit test above, with its own clock)
    wait_until(lambda: get(port, "/livez")[0] == 503, 10, what="livez to fail")  # busy > 1 s + 1 s
    wait_until(lambda: not redis_client.exists(keys.alive("stuck")), 5, what="beats to stop")
    # A second worker reaps the job as from a crash (it would get stuck too: stop it there).
    procs.append(spawn_worker(redis_url, tmp_path, "rescuer", composer="noop"))
    job = wait_until(lambda: (j := Job.fetch(r.request_id, connection=redis_client, serializer=JSONSerializer))
                     .meta.get("crashes") == 1 and j, 30, what="recovery")
    assert job.get_status() in (JobStatus.QUEUED, JobStatus.STARTED)
    assert "no longer beating" in log_text(tmp_path, "stuck")
    procs[0].send_signal(signal.SIGKILL)
