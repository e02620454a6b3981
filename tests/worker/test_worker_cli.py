"""``poetbot worker`` / ``python -m worker`` as a real process: options, logs, secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import redis
from support.workers import REPO_DIR, worker_env
from typer.testing import CliRunner

from worker.cli import app
from worker.contract import keys
from worker.contract.protocol import PoemRequest
from worker.contract.redis_server import RedisServer
from worker.contract.service import PoemService
from worker.contract.settings import QueueSettings

PASSWORD = "pw-Qx7-never-logged"


def run_cli(redis_url: str, *args: str, extra_env: dict[str, str] | None = None,
            **settings: object) -> subprocess.CompletedProcess[str]:
    env = worker_env(redis_url, **settings) | (extra_env or {})
    return subprocess.run([sys.executable, "-m", "worker", *args], env=env, cwd=REPO_DIR, capture_output=True,
                          text=True, timeout=60)


def test_burst_worker_serves_and_logs_json_without_secrets(redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory(appendonly=False, password=PASSWORD)
    svc = PoemService.from_url(server.url, QueueSettings(user_limit=0, chat_limit=0))
    r = PoemRequest(platform="console", chat_id="1", user_id="1", topic="梅")
    svc.submit(r)
    done = run_cli(server.url, "--burst", "--composer", "noop", "--max-batch", "2")
    assert done.returncode == 0, done.stderr
    output = done.stdout + done.stderr
    assert PASSWORD not in output
    assert "***" in output  # the URL is logged, redacted
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    served = [rec for rec in records if rec.get("request_id") == r.request_id]
    assert {rec["logger"] for rec in served} >= {"worker.jobs", "worker.contract.replies"}  # id carried through
    assert redis.Redis.from_url(server.url).xlen(keys.reply_stream("console")) == 1


def test_bad_option_is_explained(redis_url: str) -> None:
    done = CliRunner().invoke(app, ["--burst", "--redis-url", "http://localhost:6379"])
    assert done.exit_code == 2
    assert "redis://, rediss:// or unix://" in done.output


def test_missing_model_is_explained(redis_url: str, tmp_path: Path) -> None:
    done = run_cli(redis_url, "--burst", "--device", "cpu", "--model", str(tmp_path / "nowhere"))
    assert done.returncode == 2
    assert "nowhere" in done.stderr and "cannot start" in done.stderr


def test_help_lists_the_options() -> None:
    done = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert done.exit_code == 0
    for option in ("--burst", "--device", "--model", "--max-batch", "--concurrency", "--gpus", "--metrics-port",
                   "--maintenance-interval"):
        assert option in done.output


def test_plain_rq_command_is_equivalent(redis_url: str) -> None:
    """The documented `rq worker -w worker.worker.PoemWorker --serializer ...` line serves jobs too."""
    svc = PoemService.from_url(redis_url, QueueSettings(user_limit=0, chat_limit=0))
    r = PoemRequest(platform="console", chat_id="1", user_id="1", topic="兰")
    svc.submit(r)
    rq_bin = Path(sys.executable).with_name("rq")
    done = subprocess.run(
        [str(rq_bin), "worker", "-w", "worker.worker.PoemWorker", "--serializer", "rq.serializers.JSONSerializer",
         "--url", redis_url, "--burst", "poems"],
        env=worker_env(redis_url, composer="noop"), cwd=REPO_DIR, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    entries = redis.Redis.from_url(redis_url).xrange(keys.reply_stream("console"))
    assert [e[1][b"request_id"].decode() for e in entries] == [r.request_id]


def test_one_process_per_gpu(redis_url: str) -> None:
    svc = PoemService.from_url(redis_url, QueueSettings(user_limit=0, chat_limit=0))
    sent = [PoemRequest(platform="console", chat_id="1", user_id="1", topic=t) for t in "松竹梅菊"]
    for r in sent:
        svc.submit(r)
    done = run_cli(redis_url, "--gpus", "5,7", "--burst", "--composer", "noop")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (done.stdout + done.stderr).splitlines() if line.startswith("{")]
    starts = [rec["msg"] for rec in records if rec["msg"].startswith("worker: using Redis")]
    assert sorted(m.rsplit("=", 1)[1] for m in starts) == ["5", "7"]  # each child sees only its GPU
    entries = redis.Redis.from_url(redis_url).xrange(keys.reply_stream("console"))
    assert sorted(e[1][b"request_id"].decode() for e in entries) == sorted(r.request_id for r in sent)
