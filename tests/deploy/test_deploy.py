"""Deployment files agree with the code, checked offline; every check also rejects a broken copy."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from checks import (
    compose,
    compose_problems,
    docs,
    env_problems,
    grace_problems,
    image_problems,
    k8s_schema_problems,
    pod_security_problems,
    port_problems,
)
from support.workers import REPO_DIR

from poetcore.settings import known_keys, registered_sections
from worker.contract.settings import QueueSettings

DEPLOY = REPO_DIR / "deploy"
KNOWN = known_keys(registered_sections())
TIMEOUT = QueueSettings().job_timeout_s

CHECKS: dict[str, Callable[[Path], list[str]]] = {
    "k8s schema": k8s_schema_problems,
    "compose": compose_problems,
    "env": lambda d: env_problems(d, KNOWN),
    "grace": lambda d: grace_problems(d, TIMEOUT),
    "ports": port_problems,
    "image": image_problems,
    "pod security": pod_security_problems,
}


@pytest.mark.parametrize("name", list(CHECKS))
def test_the_shipped_deploy_files_pass(name: str) -> None:
    assert CHECKS[name](DEPLOY) == []


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}: the mutation no longer applies"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# (check that must fire, file, old text, broken text): the four, then one per other check.
MUTATIONS = [
    ("grace", "k8s/worker-gpu.yaml", '{name: POETCORE_JOB_TIMEOUT_S, value: "120"}',
     '{name: POETCORE_JOB_TIMEOUT_S, value: "600"}'),
    ("env", "k8s/worker-gpu.yaml", "name: POETCORE_JOB_TIMEOUT_S", "name: POETCORE_JOB_TIMOUT_S"),
    ("ports", "k8s/keda-scaledobject.yaml", "http://poetcore-worker-metrics.poetcore.svc.cluster.local:9100/demand",
     "http://nowhere:1/demand"),
    ("ports", "k8s/worker-gpu.yaml", '"--metrics-port", "9100"', '"--metrics-port", "9200"'),
    ("ports", "systemd/poetbot-worker@.service", "--metrics-port 910%i", "--metrics-port 91%i"),
    ("ports", "k8s/keda-scaledobject.yaml", "poetcore-worker-metrics.poetcore.svc", "poetcore-worker-metrics.default.svc"),
    ("grace", "docker-compose.yml", "stop_grace_period: 180s\n    environment", "stop_grace_period: 60s\n    environment"),
    ("grace", "systemd/poetbot-worker@.service", "TimeoutStopSec=180", "TimeoutStopSec=90"),
    ("env", "docker-compose.yml", "POETCORE_LOG_FORMAT: json", "POETCORE_LOG_FROMAT: json"),
    ("k8s schema", "k8s/worker-gpu.yaml", "terminationGracePeriodSeconds: 180", "terminationGracePeriod: 180"),
    ("k8s schema", "k8s/keda-scaledobject.yaml", "minReplicaCount: 1", "minReplicas: 1"),
    ("k8s schema", "monitoring/prometheus-rules.yaml", "for: 5m", "for: five minutes"),
    ("compose", "docker-compose.yml", "stop_grace_period: 180s\n    environment", "stop_grace: 180s\n    environment"),
    ("image", "Dockerfile", "ARG TORCH_FLAVOR=cpu", "ARG TORCH_FLAVOR=cu124"),
    ("image", "docker-compose.yml", "TORCH_FLAVOR: cu126", "TORCH_FLAVOR: cu124"),
    ("image", "Dockerfile", "USER 10001:10001", "USER poet"),
    ("pod security", "k8s/bots.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"),
]


@pytest.mark.parametrize(("check", "rel", "old", "new"), MUTATIONS, ids=[f"{m[0]}:{m[1]}:{m[3][:24]}" for m in MUTATIONS])
def test_a_broken_copy_is_caught(check: str, rel: str, old: str, new: str, tmp_path: Path) -> None:
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    edit(copy, rel, old, new)
    assert CHECKS[check](copy), f"{check} did not notice {new!r} in {rel}"


def test_keda_scales_on_waiting_plus_running_from_a_worker_service() -> None:
    scaled = next(d for d in docs(DEPLOY / "k8s/keda-scaledobject.yaml") if d["kind"] == "ScaledObject")
    worker = docs(DEPLOY / "k8s/worker-gpu.yaml")
    deployment = next(d for d in worker if d["kind"] == "Deployment")
    assert scaled["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert scaled["spec"]["minReplicaCount"] >= 1 and "cooldownPeriod" not in scaled["spec"]
    assert scaled["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert "replicas" not in deployment["spec"]  # KEDA owns the count
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == 0
    assert any(d["kind"] == "PodDisruptionBudget" for d in worker)
    bots = docs(DEPLOY / "k8s/bots.yaml")[0]
    assert bots["spec"]["strategy"]["type"] == "Recreate"
    trigger = scaled["spec"]["triggers"][0]
    assert trigger["type"] == "metrics-api" and trigger["metadata"]["valueLocation"] == "demand"


def test_redis_refuses_rather_than_evicts_when_full() -> None:
    """An evicted job or reply is a lost answer: every shipped Redis sets maxmemory with noeviction."""
    redis_cmd = compose(DEPLOY)["services"]["redis"]["command"]
    redis_pod = next(d for d in docs(DEPLOY / "k8s/redis.yaml") if d["kind"] in ("StatefulSet", "Deployment"))
    k8s = redis_pod["spec"]["template"]["spec"]["containers"][0]["args"]
    for args in (redis_cmd, k8s):
        assert args[args.index("--maxmemory-policy") + 1] == "noeviction" and "--maxmemory" in args


def test_compose_puts_each_gpu_worker_on_its_own_gpu() -> None:
    services = compose(DEPLOY)["services"]
    gpus = [s["deploy"]["resources"]["reservations"]["devices"][0]["device_ids"] for name, s in services.items()
            if name.startswith("worker-gpu")]
    assert len(gpus) >= 2 and len({tuple(g) for g in gpus}) == len(gpus)


def test_secrets_and_local_files_stay_out_of_git_and_the_image() -> None:
    ignored = (REPO_DIR / ".gitignore").read_text(encoding="utf-8").split()
    docker_ignored = (REPO_DIR / ".dockerignore").read_text(encoding="utf-8").split()
    for name in ("deploy/.env", "deploy/k8s/secret.yaml", "poetcore.env"):
        assert name in ignored and name in docker_ignored
    assert yaml.safe_load((DEPLOY / "k8s/namespace.yaml").read_text())["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"
