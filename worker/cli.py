"""``poetbot worker``: run poem workers (registered by ``bots.cli``; also ``python -m worker``).

One process drives one device. ``--concurrency N`` starts N worker processes on this machine;
``--gpus 0,1`` starts one per listed GPU, each with its own ``CUDA_VISIBLE_DEVICES``. To scale
out, run more of these on more machines pointed at the same ``REDIS_URL``.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import redis
import typer
from rq import Queue

from poetcore.errors import ModelLoadError
from poetcore.settings import UnknownSettingError
from worker.contract.connection import connect
from worker.contract.health import worker_health
from worker.contract.logs import configure_logging
from worker.contract.metrics import start_metrics_server
from worker.contract.redis_server import resolve_redis_url
from worker.contract.settings import redact_url
from worker.engine import DeviceError
from worker.settings import WorkerConfig, load_worker_config
from worker.worker import PoemWorker

log = logging.getLogger(__name__)


def _supervise(argv: list[str], envs: list[dict[str, str]]) -> int:
    """Run one child worker per env, forward SIGTERM/SIGINT, return the worst exit code.

    The parent only waits: it exits when every child has. A parent that "never exits" after its
    children logged "done, quitting" was a child stuck in its own teardown (RQ's pubsub thread
    under redis-py 8, see `rq_private.unsubscribe`), not this loop. Handlers go in before the
    children start, so a signal in between reaches them instead of killing the parent alone.
    """
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    children.extend(subprocess.Popen([sys.executable, "-m", "worker", *argv], env={**os.environ, **env})
                    for env in envs)
    codes = [child.wait() for child in children]
    # A child killed by a signal reports -N; as a shell would, make it 128 + N so it counts as worst.
    return max(128 - code if code < 0 else code for code in codes)


def run_worker(config: WorkerConfig, queues: list[str] | None = None, *, burst: bool = False,
               name: str | None = None) -> bool:
    """Start one PoemWorker in this process (main thread) and serve until stopped."""
    settings = config.queue
    configure_logging(settings.log_level, settings.log_format)
    url, embedded = resolve_redis_url(settings)
    log.info("worker: using Redis at %s; device %s, CUDA_VISIBLE_DEVICES=%s", redact_url(url) if settings.redis_url
             else f"{url} (embedded)", config.engine.device, os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>"))
    try:
        connection = connect(url)
        names = queues or [settings.queue]
        health = worker_health(settings.job_timeout_s, settings.stall_margin_s)
        if settings.metrics_port is not None:
            start_metrics_server(settings.metrics_port, health=health, demand=lambda: queue_demand(connection, names))
        worker = PoemWorker(names, connection=connection, config=config, name=name, health=health)
        return worker.work(burst=burst, logging_level=settings.log_level.upper())
    finally:
        if embedded is not None:
            embedded.stop()


def queue_demand(connection: redis.Redis, names: list[str]) -> dict[str, int]:
    """Waiting and running jobs over the worker's queues: what KEDA should scale on."""
    waiting = running = 0
    for name in names:
        queue = Queue(name, connection=connection)
        waiting += queue.count
        running += queue.started_job_registry.count
    return {"waiting": waiting, "running": running, "demand": waiting + running}


def worker_command(
    queues: Annotated[list[str] | None, typer.Argument(help="queue names, highest priority first [default: poems]")] = None,
    burst: Annotated[bool, typer.Option("--burst", help="exit once the queues are empty")] = False,
    device: Annotated[str | None, typer.Option(help="auto | cpu | cuda (auto: CUDA when visible)")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="model directory [default: shipped model]")] = None,
    max_batch: Annotated[int | None, typer.Option("--max-batch", "--batch", min=1, max=64,
                                                  help="serve up to N waiting requests per generate() call")] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="worker processes to start on this machine")] = 1,
    gpus: Annotated[str | None, typer.Option(help="comma-separated GPU ids: one process per GPU")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus /metrics here (N, N+1, ... per process)")] = None,
    maintenance_interval: Annotated[int | None, typer.Option(min=1, help="seconds between RQ registry cleanups")] = None,
    redis_url: Annotated[str | None, typer.Option(help="overrides REDIS_URL; unset -> embedded redis-server",
                                                  show_default=False)] = None,
    composer: Annotated[str | None, typer.Option(help="real | noop (noop: queue benchmarks only)")] = None,
    name: Annotated[str | None, typer.Option(help="worker name [default: random]")] = None,
    env_file: Annotated[Path | None, typer.Option(help="settings file [default: $POETCORE_ENV_FILE or ./poetcore.env]")] = None,
    log_format: Annotated[str | None, typer.Option(help="json | text")] = None,
    log_level: Annotated[str | None, typer.Option(help="DEBUG | INFO | WARNING")] = None,
) -> None:
    """Run poem workers: load the model once, then compose poems from the Redis queue."""
    try:
        config = load_worker_config(
            env_file,
            engine={"device": device, "model": model},
            queue={"metrics_port": metrics_port, "redis_url": redis_url, "log_format": log_format,
                   "log_level": log_level},
            worker={"max_batch": max_batch, "maintenance_interval_s": maintenance_interval, "composer": composer},
        )
    except UnknownSettingError as exc:
        typer.echo(f"poetbot worker: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (ValueError, FileNotFoundError) as exc:
        typer.echo(f"poetbot worker: invalid settings: {exc}", err=True)
        raise typer.Exit(2) from exc
    gpu_ids = [g.strip() for g in gpus.split(",") if g.strip()] if gpus else []
    if concurrency == 1 and not gpu_ids:
        try:
            run_worker(config, queues, burst=burst, name=name)
        except (DeviceError, ModelLoadError) as exc:
            typer.echo(f"poetbot worker: cannot start: {exc}", err=True)
            raise typer.Exit(2) from exc
        return
    # Several processes: pass the resolved Redis URL down so they share one (embedded) server.
    url, embedded = resolve_redis_url(config.queue)
    child_args = [*(queues or []), *(["--burst"] if burst else [])]
    envs = []
    slots: list[str | None] = [*gpu_ids] if gpu_ids else [None] * concurrency
    for i, gpu in enumerate(slots):
        env = {"REDIS_URL": url}
        if gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = gpu
        for key, value in {"POETCORE_DEVICE": device, "POETCORE_MODEL": model, "POETCORE_MAX_BATCH": max_batch,
                           "POETCORE_COMPOSER": composer, "POETCORE_LOG_FORMAT": log_format,
                           "POETCORE_LOG_LEVEL": log_level,
                           "POETCORE_MAINTENANCE_INTERVAL_S": maintenance_interval}.items():
            if value is not None:
                env[key] = str(value)
        if env_file is not None:
            env["POETCORE_ENV_FILE"] = str(env_file)
        if metrics_port is not None:
            env["POETCORE_METRICS_PORT"] = str(metrics_port + i)
        envs.append(env)
    try:
        code = _supervise(child_args, envs)
    finally:
        if embedded is not None:
            embedded.stop()
    raise typer.Exit(code)


app = typer.Typer(add_completion=False, help="Poetcore poem workers (same as `poetbot worker`).")
app.command()(worker_command)
