"""Deployment files agree with the code: queue key for KEDA, grace periods above the job timeout."""

from __future__ import annotations

import yaml
from rq import Queue
from support.workers import REPO_DIR

from worker.contract.settings import QueueSettings

DEPLOY = REPO_DIR / "deploy"


def docs(name: str) -> list[dict]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def test_keda_scales_on_the_waiting_list_of_the_default_queue(redis_client: object) -> None:
    scaled = next(d for d in docs("k8s/keda-scaledobject.yaml") if d["kind"] == "ScaledObject")
    trigger = scaled["spec"]["triggers"][0]
    queue = Queue(QueueSettings().queue, connection=redis_client)  # type: ignore[arg-type]
    assert trigger["type"] == "redis" and trigger["metadata"]["listName"] == queue.key
    assert scaled["spec"]["minReplicaCount"] >= 1  # never wait for a cold model load
    assert scaled["spec"]["scaleTargetRef"]["name"] == docs("k8s/worker-gpu.yaml")[0]["metadata"]["name"]


def test_grace_periods_outlast_the_job_timeout() -> None:
    timeout = QueueSettings().job_timeout_s
    pod = docs("k8s/worker-gpu.yaml")[0]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] > timeout
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    compose = docs("docker-compose.yml")[0]
    assert int(compose["services"]["worker"]["stop_grace_period"].rstrip("s")) > timeout
    unit = (DEPLOY / "systemd" / "poetbot-worker@.service").read_text()
    assert "Environment=CUDA_VISIBLE_DEVICES=%i" in unit
    stop = next(line for line in unit.splitlines() if line.startswith("TimeoutStopSec="))
    assert int(stop.split("=")[1]) > timeout


def test_redis_refuses_rather_than_evicts_when_full() -> None:
    """An evicted job or reply is a lost answer: every shipped Redis sets maxmemory with noeviction."""
    compose = docs("docker-compose.yml")[0]["services"]["redis"]["command"]
    redis_pod = next(d for d in docs("k8s/redis.yaml") if d["kind"] in ("StatefulSet", "Deployment"))
    k8s = redis_pod["spec"]["template"]["spec"]["containers"][0]["args"]
    for args in (compose, k8s):
        assert args[args.index("--maxmemory-policy") + 1] == "noeviction" and "--maxmemory" in args
