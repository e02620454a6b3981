"""Crashes, shutdowns and restarts with real processes: nothing a user asked for is lost.

Workers here run as subprocesses (``python -m worker``) with the noop composer and a fixed
delay, so "mid-job" is a window we control; heartbeats are 0.2 s with a 1 s liveness TTL.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from support.queue import make_request, queue_settings, stream_replies
from support.workers import REPO_DIR, collect, log_text, spawn_worker, wait_until, worker_env

from worker.contract import keys
from worker.contract.connection import connect, connect_async
from worker.contract.protocol import PoemReply
from worker.contract.redis_server import RedisServer
from worker.contract.replies import ReplyConsumer, ReplyPublisher
from worker.contract.service import PoemService
from worker.contract.settings import QueueSettings
from worker.reaper import Reaper

DELAY_MS = 1500
pytestmark = pytest.mark.timeout(60)


def settings(**overrides: object) -> QueueSettings:
    return queue_settings(**{"heartbeat_interval_s": 0.2, "liveness_ttl_s": 1.0, **overrides})


req = make_request
stream = stream_replies


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(redis_url: str, name: str, **env: object) -> subprocess.Popen[bytes]:
        opts: dict[str, object] = {"composer": "noop", "noop_delay_ms": DELAY_MS}
        opts.update(env)
        proc = spawn_worker(redis_url, tmp_path, name, **opts)
        procs.append(proc)
        client = connect(redis_url)
        wait_until(lambda: client.exists(keys.alive(name)) or proc.poll() is not None, 30, what=f"worker {name}")
        assert proc.poll() is None, log_text(tmp_path, name)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def running_on(client: redis.Redis, job_id: str) -> str | None:
    job = Job.fetch(job_id, connection=client, serializer=JSONSerializer)
    return job.worker_name if job.get_status() == JobStatus.STARTED else None


async def test_kill_9_mid_job_then_another_worker_answers_once(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    procs = {"w-a": workers(redis_url, "w-a"), "w-b": workers(redis_url, "w-b")}
    svc = PoemService.from_url(redis_url, settings())
    r = req()
    assert svc.submit(r).accepted
    victim = wait_until(lambda: running_on(redis_client, r.request_id), 10, what="job start")
    survivor = next(n for n in procs if n != victim)
    procs[victim].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    requeued = wait_until(lambda: running_on(redis_client, r.request_id) == survivor, 10, what="recovery")
    recovered_s = time.monotonic() - killed_at
    got = await collect(ReplyConsumer(connect_async(redis_url, block_s=1), "telegram", block_ms=100), 1,
                        timeout=10)
    answered_s = time.monotonic() - killed_at
    assert requeued
    assert [(g.request_id, g.status, g.worker) for g in got] == [(r.request_id, "ok", survivor)]
    await asyncio.sleep(0.5)
    assert len(stream(redis_client)) == 1  # the killed run never published
    job = Job.fetch(r.request_id, connection=redis_client, serializer=JSONSerializer)
    assert job.meta["crashes"] == 1 and job.get_status() == JobStatus.FINISHED
    # detection ~ liveness TTL (1 s) + heartbeat (0.2 s); the re-run itself takes DELAY_MS
    assert recovered_s < 3.0, f"recovery took {recovered_s:.2f} s"
    print(f"\nkill -9 recovery: job restarted on {survivor} {recovered_s:.2f} s after the kill; "
          f"reply {answered_s:.2f} s after the kill (includes a {DELAY_MS} ms re-run)")
    assert "requeued at the front" in log_text(tmp_path, survivor)


def test_job_that_keeps_killing_workers_fails_with_a_reply(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    s = settings(crash_retries=0)
    proc = workers(redis_url, "w-doomed")
    svc = PoemService.from_url(redis_url, s)
    r = req(locale="en")
    svc.submit(r)
    wait_until(lambda: running_on(redis_client, r.request_id), 10, what="job start")
    proc.kill()
    wait_until(lambda: not redis_client.exists(keys.alive("w-doomed")), 5, what="liveness to lapse")
    assert Reaper(redis_client, ["poems"], s).run_once() == 1
    got = stream(redis_client)
    assert [(g.status, g.error.code if g.error else None) for g in got] == [("failed", "worker_crashed")]
    assert got[0].error is not None and got[0].error.code == "worker_crashed"
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    assert q.failed_job_registry.get_job_ids() == [r.request_id] and q.started_job_registry.count == 0
    assert not redis_client.sismember(keys.workers("poems"), "w-doomed")  # roster cleaned


def test_job_lost_between_dequeue_and_start_is_requeued(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings()
    svc = PoemService.from_url(redis_url, s)
    r = req()
    svc.submit(r)
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    redis_client.lmove(q.key, q.intermediate_queue_key)  # a worker's BLMOVE, then it died
    reaper = Reaper(redis_client, ["poems"], s)
    assert reaper.run_once() == 0  # first sighting: could be a live worker about to start it
    time.sleep(s.liveness_ttl_s + 0.1)
    redis_client.delete(keys.reaper_lock("poems"))
    assert reaper.run_once() == 1
    assert q.job_ids == [r.request_id] and redis_client.llen(q.intermediate_queue_key) == 0
    assert redis_client.hlen(keys.stuck_seen("poems")) == 0


def test_sigterm_finishes_the_current_job_then_exits(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    proc = workers(redis_url, "w-term", max_batch=1)  # one job at a time: the second must stay queued
    svc = PoemService.from_url(redis_url, settings())
    first, second = req(), req()
    svc.submit(first)
    svc.submit(second)
    wait_until(lambda: running_on(redis_client, first.request_id), 10, what="job start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0, log_text(tmp_path, "w-term")
    assert [(g.request_id, g.status) for g in stream(redis_client)] == [(first.request_id, "ok")]
    assert svc.status(second.request_id).state == "queued"  # untouched, for the next worker
    assert not redis_client.exists(keys.alive("w-term"))
    assert not redis_client.sismember(keys.workers("poems"), "w-term")
    assert "warm shut down requested" in log_text(tmp_path, "w-term")


@pytest.mark.slow
async def test_second_sigterm_aborts_the_job_and_another_worker_serves_it(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    first = workers(redis_url, "w-cold")
    svc = PoemService.from_url(redis_url, settings())
    r = req()
    svc.submit(r)
    wait_until(lambda: running_on(redis_client, r.request_id), 10, what="job start")
    first.send_signal(signal.SIGTERM)
    time.sleep(1.1)  # RQ ignores a second signal within 1 s (worker pools send two)
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=15)
    assert "cold shut down" in log_text(tmp_path, "w-cold")
    workers(redis_url, "w-next")
    got = await collect(ReplyConsumer(connect_async(redis_url, block_s=1), "telegram", block_ms=100), 1,
                        timeout=15, linger=0.3)
    assert [(g.request_id, g.status, g.worker) for g in got] == [(r.request_id, "ok", "w-next")]


async def test_redis_restart_with_aof_loses_nothing(
    redis_server_factory: Callable[..., RedisServer], workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    server = redis_server_factory(appendonly=True, appendfsync="always")
    url = server.url
    client = connect(url)
    svc = PoemService.from_url(url, settings())
    queued = [req(topic=t) for t in "甲乙丙"]
    for r in queued:
        svc.submit(r)
    pending = req(topic="丁")
    ReplyPublisher(client).publish(PoemReply.failure(pending, "internal"))
    got_before = await collect(ReplyConsumer(connect_async(url, block_s=1), "telegram", consumer="bot-a",
                                             block_ms=100), 1, ack=False)  # read, not acked
    assert got_before[0].request_id == pending.request_id

    server.restart(crash=True)  # kill -9 and start again on the same port and data dir

    client = connect(url)
    assert client.llen("rq:queue:poems") == 3
    assert client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 1
    workers(url, "w-after", noop_delay_ms=0)
    got = await collect(ReplyConsumer(connect_async(url, block_s=1), "telegram", consumer="bot-a", block_ms=100),
                        4, timeout=20, linger=0.3)
    assert sorted(g.request_id for g in got) == sorted(r.request_id for r in [*queued, pending])


@pytest.mark.slow
async def test_worker_and_consumer_ride_out_a_redis_restart(
    redis_server_factory: Callable[..., RedisServer], workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    server = redis_server_factory(appendonly=True, appendfsync="always")
    url = server.url
    workers(url, "w-steady", noop_delay_ms=0)
    consumer = ReplyConsumer(connect_async(url, block_s=1), "telegram", consumer="bot-steady", block_ms=100)
    task = asyncio.create_task(collect(consumer, 2, timeout=30))
    PoemService.from_url(url, settings()).submit(req(topic="前"))
    await asyncio.sleep(1.0)
    server.restart(crash=True)
    PoemService.from_url(url, settings()).submit(req(topic="后"))
    got = await task
    assert sorted(g.poem.title for g in got if g.poem) == ["前", "后"]


async def test_worker_in_a_job_rides_out_a_redis_restart(
    redis_server_factory: Callable[..., RedisServer], workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """Issue 10: a worker mid-job when Redis restarts must reconnect, keep serving, and the job is answered once."""
    server = redis_server_factory(appendonly=True, appendfsync="always")
    url = server.url
    proc = workers(url, "w-mid", noop_delay_ms=DELAY_MS)
    client = connect(url)
    svc = PoemService.from_url(url, settings())
    first = req(topic="中")
    svc.submit(first)
    wait_until(lambda: running_on(client, first.request_id), 10, what="job start")
    server.stop()  # a restart that takes a while: the job finishes while Redis is down
    time.sleep(DELAY_MS / 1000 + 0.5)
    server.start()
    time.sleep(1.0)
    assert proc.poll() is None, log_text(tmp_path, "w-mid")
    later = req(topic="后")
    PoemService.from_url(url, settings()).submit(later)
    try:
        got = await collect(ReplyConsumer(connect_async(url, block_s=1), "telegram", consumer="bot-mid", block_ms=100),
                            2, timeout=30, linger=0.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker log:\n{log_text(tmp_path, 'w-mid')[-3000:]}") from None
    assert sorted(g.request_id for g in got) == sorted([first.request_id, later.request_id])
    assert proc.poll() is None, log_text(tmp_path, "w-mid")


def test_a_fixed_name_restarts_at_once_after_kill_9(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """systemd's ``--name host-gpu0`` + ``Restart=always``: the restarted worker must not wait minutes
    for RQ's key of its dead self to expire, and must still serve the job its predecessor died in."""
    first = workers(redis_url, "host-gpu0")
    svc = PoemService.from_url(redis_url, settings())
    r = req()
    assert svc.submit(r).accepted
    wait_until(lambda: running_on(redis_client, r.request_id) == "host-gpu0", 10, what="job start")
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert redis_client.exists("rq:worker:host-gpu0")  # RQ's registration outlives the process
    wait_until(lambda: not redis_client.exists(keys.alive("host-gpu0")), 5, what="liveness key to lapse")
    restarted_at = time.monotonic()
    workers(redis_url, "host-gpu0")  # fails (exits) if RQ refuses the name
    wait_until(lambda: Job.fetch(r.request_id, connection=redis_client, serializer=JSONSerializer).get_status()
               == JobStatus.FINISHED, 15, what="the interrupted job to finish")
    print(f"\nrestart under the same name: serving {time.monotonic() - restarted_at:.2f} s after the restart")
    assert "took over the name from a dead predecessor (1 job(s) recovered)" in log_text(tmp_path, "host-gpu0")
    assert len(stream(redis_client)) == 1


def test_a_live_namesake_is_still_refused(
    redis_url: str, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    workers(redis_url, "twin")
    clash = subprocess.run(
        [sys.executable, "-m", "worker", "--name", "twin", "--burst"], env=worker_env(redis_url, composer="noop"),
        cwd=REPO_DIR, capture_output=True, text=True, timeout=60, check=False)
    assert clash.returncode != 0 and "There exists an active worker named 'twin' already" in clash.stdout + clash.stderr
