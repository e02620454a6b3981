"""Crashes, shutdowns and restarts with real processes: nothing a user asked for is lost.

Workers here run as subprocesses (``python -m worker``) with the noop composer; heartbeats are
0.2 s with a 1 s liveness TTL. "Mid-job" is the fault-injection job ``support.jobs.held``, which
composes only once the test creates its ``go`` file: a job cannot finish before the test has done
what it came to do (kill, signal, stop Redis), however loaded the machine is. Every wait is on an
event or a state (a file, a job status, a log line, a process exit); the timeouts only bound a
failure, and no assertion is about speed except the two that measure shutdown and recovery, each
with its reason.
"""

from __future__ import annotations

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
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.redis_server import RedisServer
from worker.contract.replies import ReplyConsumer, ReplyPublisher
from worker.contract.service import PoemService
from worker.contract.settings import QueueSettings
from worker.reaper import Reaper

HEARTBEAT_S = 0.2
LIVENESS_TTL_S = 1.0
STOP_BOUND_S = 10.0
"""How long a SIGTERMed idle worker may take to exit. A clean stop takes well under a second here;
the bug this guards against kept the worker in RQ's pubsub teardown for up to 60 s (cut short at 30 s
by the supervisor's second signal in the report). 10 s is far below that and far above any
scheduling delay of a loaded machine, so it only fails on a real hang."""

pytestmark = pytest.mark.timeout(90)


def settings(**overrides: object) -> QueueSettings:
    return queue_settings(**{"heartbeat_interval_s": HEARTBEAT_S, "liveness_ttl_s": LIVENESS_TTL_S, **overrides})


req = make_request
stream = stream_replies


class Hold:
    """The ``support.jobs.held`` job's files: who is running it, and the switch that lets it finish."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.dir.mkdir()

    def request(self, **kw: object) -> PoemRequest:
        return req(route={"hold": str(self.dir)}, **kw)

    def runners(self) -> list[str]:
        return [p.read_text() for p in sorted(self.dir.glob("running-*"))]

    def wait_running(self, count: int = 1) -> list[str]:
        """Worker names of the attempts started so far, once ``count`` have started."""
        return wait_until(lambda: len(self.runners()) >= count and self.runners(), 30, what=f"attempt {count}")

    def release(self) -> None:
        (self.dir / "go").touch()


@pytest.fixture
def hold(tmp_path: Path) -> Hold:
    return Hold(tmp_path / "hold")


def held_service(url: str, **overrides: object) -> PoemService:
    return PoemService(connect(url), settings(**overrides), job_function="support.jobs.held")


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(redis_url: str, name: str, **env: object) -> subprocess.Popen[bytes]:
        opts: dict[str, object] = {"composer": "noop"}
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


def consumer(url: str, name: str = "bot-a") -> ReplyConsumer:
    return ReplyConsumer(connect_async(url, block_s=1), "telegram", consumer=name, block_ms=100)


def job_of(client: redis.Redis, request_id: str) -> Job:
    return Job.fetch(request_id, connection=client, serializer=JSONSerializer)


async def test_kill_9_mid_job_then_another_worker_answers_once(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path,
    hold: Hold,
) -> None:
    procs = {"w-a": workers(redis_url, "w-a"), "w-b": workers(redis_url, "w-b")}
    r = hold.request()
    assert held_service(redis_url).submit(r).accepted
    [victim] = hold.wait_running(1)
    survivor = next(n for n in procs if n != victim)
    procs[victim].send_signal(signal.SIGKILL)
    procs[victim].wait()
    assert sorted(hold.wait_running(2)) == sorted([victim, survivor])  # recovered, started again on the other
    hold.release()
    got = await collect(consumer(redis_url), 1, timeout=30)
    assert [(g.request_id, g.status, g.worker) for g in got] == [(r.request_id, "ok", survivor)]
    assert len(stream(redis_client)) == 1  # the killed run is dead and never published
    job = job_of(redis_client, r.request_id)
    assert job.meta["crashes"] == 1 and job.get_status() == JobStatus.FINISHED
    assert "requeued at the front" in log_text(tmp_path, survivor)


def test_recovery_comes_within_two_heartbeats_of_the_lapse(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], hold: Hold
) -> None:
    """Issue 27: the other worker's reaper recovers a killed worker's job within two of its heartbeats
    after the dead worker's liveness lapsed (last beat + liveness TTL).

    Counted in the survivor's own reaper passes (the job's ``recovery_passes``), not in seconds: a
    loaded machine delays the passes and the recovery alike, so the count does not depend on it. The
    seconds are printed. Before the fix a pass could be skipped (the reaper lock was held for two
    heartbeats and never released) or the job left behind for good (a worker whose key lapsed
    mid-pass was dropped from the roster with its job still started).
    """
    procs = {"w-a": workers(redis_url, "w-a"), "w-b": workers(redis_url, "w-b")}
    r = hold.request()
    assert held_service(redis_url).submit(r).accepted
    [victim] = hold.wait_running(1)
    procs[victim].send_signal(signal.SIGKILL)
    procs[victim].wait()
    job = wait_until(lambda: (j := job_of(redis_client, r.request_id)).meta.get("crashes") == 1 and j, 30,
                     what="the reaper to recover the job")
    hold.release()
    meta = job.meta
    assert meta["lapsed_at"] is not None and meta["recovery_passes"] is not None
    assert 1 <= meta["recovery_passes"] <= 2, meta
    print(f"\nkill -9 recovery: pass {meta['recovery_passes']} after the lapse, "
          f"{meta['recovered_at'] - meta['lapsed_at']:.2f} s after it (heartbeat {HEARTBEAT_S} s, "
          f"liveness TTL {LIVENESS_TTL_S} s)")


def test_a_dead_worker_stays_on_the_roster_until_its_job_is_recovered(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], hold: Hold
) -> None:
    """The roster clean-up never drops a dead worker that still owns a started job: without the
    roster entry no reaper would take the job again (the 'did not act' of issue 27)."""
    proc = workers(redis_url, "w-gone")
    r = hold.request()
    assert held_service(redis_url).submit(r).accepted
    hold.wait_running(1)
    proc.kill()
    proc.wait()
    wait_until(lambda: not redis_client.exists(keys.alive("w-gone")), 10, what="liveness to lapse")
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    reaper = Reaper(redis_client, ["poems"], settings())
    reaper._forget_dead_workers(q, ["w-gone"])  # the clean-up step alone, as if the job was missed
    assert redis_client.sismember(keys.workers("poems"), "w-gone")
    assert reaper.run_once() == 1
    assert q.job_ids == [r.request_id]
    assert not redis_client.sismember(keys.workers("poems"), "w-gone")  # forgotten once nothing is left
    hold.release()


def test_job_that_keeps_killing_workers_fails_with_a_reply(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], hold: Hold
) -> None:
    s = settings(crash_retries=0)
    proc = workers(redis_url, "w-doomed")
    r = hold.request(locale="en")
    held_service(redis_url, crash_retries=0).submit(r)
    hold.wait_running(1)
    proc.kill()
    proc.wait()
    wait_until(lambda: not redis_client.exists(keys.alive("w-doomed")), 10, what="liveness to lapse")
    assert Reaper(redis_client, ["poems"], s).run_once() == 1
    got = stream(redis_client)
    assert [(g.status, g.error.code if g.error else None) for g in got] == [("failed", "worker_crashed")]
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
    # age the first sighting by the grace period (the liveness TTL) instead of sleeping through it
    first = int(redis_client.hget(keys.stuck_seen("poems"), r.request_id) or 0)
    redis_client.hset(keys.stuck_seen("poems"), r.request_id, first - int(s.liveness_ttl_s * 1000))
    assert reaper.run_once() == 1
    assert q.job_ids == [r.request_id] and redis_client.llen(q.intermediate_queue_key) == 0
    assert redis_client.hlen(keys.stuck_seen("poems")) == 0


def test_sigterm_finishes_the_current_job_then_exits(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path,
    hold: Hold,
) -> None:
    proc = workers(redis_url, "w-term", max_batch=1)  # one job at a time: the second must stay queued
    first, second = hold.request(), req()
    held_service(redis_url).submit(first)
    svc = PoemService.from_url(redis_url, settings())
    svc.submit(second)
    hold.wait_running(1)
    proc.send_signal(signal.SIGTERM)
    wait_until(lambda: "warm shut down requested" in log_text(tmp_path, "w-term"), 30, what="the signal to land")
    hold.release()  # only now can the job finish: the worker already knows it must stop after it
    assert proc.wait(timeout=30) == 0, log_text(tmp_path, "w-term")
    assert [(g.request_id, g.status) for g in stream(redis_client)] == [(first.request_id, "ok")]
    assert svc.status(second.request_id).state == "queued"  # untouched, for the next worker
    assert not redis_client.exists(keys.alive("w-term"))
    assert not redis_client.sismember(keys.workers("poems"), "w-term")


@pytest.mark.slow
async def test_second_sigterm_aborts_the_job_and_another_worker_serves_it(
    redis_url: str, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path, hold: Hold
) -> None:
    first = workers(redis_url, "w-cold")
    r = hold.request()
    held_service(redis_url).submit(r)
    hold.wait_running(1)
    first.send_signal(signal.SIGTERM)
    wait_until(lambda: "warm shut down requested" in log_text(tmp_path, "w-cold"), 30, what="the first signal")
    # RQ ignores a second signal within 1 s of the first (worker pools send two): its rule, not a
    # guess at the machine's speed; the held job cannot finish meanwhile.
    time.sleep(1.1)
    first.send_signal(signal.SIGTERM)
    first.wait(timeout=30)
    assert "cold shut down" in log_text(tmp_path, "w-cold")
    workers(redis_url, "w-next")
    hold.release()
    got = await collect(consumer(redis_url), 1, timeout=30)
    assert [(g.request_id, g.status, g.worker) for g in got] == [(r.request_id, "ok", "w-next")]


@pytest.mark.parametrize("redis_state", ["restarted", "down"])
def test_idle_worker_stops_promptly_on_sigterm_after_losing_redis(
    redis_server_factory: Callable[..., RedisServer], workers: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path, redis_state: str,
) -> None:
    """Issue 27: after a Redis restart an idle worker took 30 s to stop on SIGTERM (then a cold
    shutdown). RQ's teardown waited on its pubsub thread, which redis-py 8 joins without a limit."""
    server = redis_server_factory(appendonly=False)
    proc = workers(server.url, "w-idle")
    if redis_state == "restarted":
        server.restart(crash=True)  # no AOF: the new server is empty until the worker beats into it
        client = connect(server.url)
        wait_until(lambda: client.exists(keys.alive("w-idle")), 30, what="the worker to beat again")
    else:
        server.kill()
        wait_until(lambda: "cannot reach Redis" in log_text(tmp_path, "w-idle"), 30, what="the worker to notice")
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=STOP_BOUND_S)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {STOP_BOUND_S} s after SIGTERM:\n{log_text(tmp_path, 'w-idle')[-3000:]}"
                             ) from None
    text = log_text(tmp_path, "w-idle")
    assert code == 0, text
    # a Redis restart needs no operator: WARNING lines (counted in poetcore_redis_retries_total), no ERROR
    assert "Traceback" not in text and '"level": "ERROR"' not in text, text


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
    got_before = await collect(consumer(url), 1, ack=False)  # read, not acked
    assert got_before[0].request_id == pending.request_id

    server.restart(crash=True)  # kill -9 and start again on the same port and data dir

    client = connect(url)
    assert client.llen("rq:queue:poems") == 3
    assert client.xpending(keys.reply_stream("telegram"), "bots")["pending"] == 1
    workers(url, "w-after")
    got = await collect(consumer(url), 4, timeout=30)
    assert sorted(g.request_id for g in got) == sorted(r.request_id for r in [*queued, pending])


@pytest.mark.slow
async def test_worker_and_consumer_ride_out_a_redis_restart(
    redis_server_factory: Callable[..., RedisServer], workers: Callable[..., subprocess.Popen[bytes]]
) -> None:
    server = redis_server_factory(appendonly=True, appendfsync="always")
    url = server.url
    workers(url, "w-steady")
    client = connect(url)
    before = req(topic="前")
    PoemService.from_url(url, settings()).submit(before)
    wait_until(lambda: job_of(client, before.request_id).get_status() == JobStatus.FINISHED, 30, what="first job")
    server.restart(crash=True)
    PoemService.from_url(url, settings()).submit(req(topic="后"))
    got = await collect(consumer(url, "bot-steady"), 2, timeout=30)
    assert sorted(g.poem.title for g in got if g.poem) == ["前", "后"]


async def test_worker_in_a_job_rides_out_a_redis_restart(
    redis_server_factory: Callable[..., RedisServer], workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path,
    hold: Hold,
) -> None:
    """Issue 10: a worker mid-job when Redis restarts must reconnect, keep serving, and the job is answered once."""
    server = redis_server_factory(appendonly=True, appendfsync="always")
    url = server.url
    proc = workers(url, "w-mid")
    first = hold.request(topic="中")
    held_service(url).submit(first)
    hold.wait_running(1)
    server.stop()  # a restart that takes a while: the job finishes (and cannot publish) while Redis is down
    hold.release()
    wait_until(lambda: "lost Redis" in log_text(tmp_path, "w-mid"), 30, what="the worker to lose Redis")
    server.start()
    later = req(topic="后")
    PoemService.from_url(url, settings()).submit(later)
    try:
        got = await collect(consumer(url, "bot-mid"), 2, timeout=30)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nworker log:\n{log_text(tmp_path, 'w-mid')[-3000:]}") from None
    assert sorted(g.request_id for g in got) == sorted([first.request_id, later.request_id])
    assert proc.poll() is None, log_text(tmp_path, "w-mid")  # rode it out: still serving
    assert len(stream(connect(url))) == 2


def test_a_fixed_name_restarts_at_once_after_kill_9(
    redis_url: str, redis_client: redis.Redis, workers: Callable[..., subprocess.Popen[bytes]], tmp_path: Path,
    hold: Hold,
) -> None:
    """systemd's ``--name host-gpu0`` + ``Restart=always``: the restarted worker must not wait minutes
    for RQ's key of its dead self to expire, and must still serve the job its predecessor died in."""
    first = workers(redis_url, "host-gpu0")
    r = hold.request()
    assert held_service(redis_url).submit(r).accepted
    hold.wait_running(1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert redis_client.exists("rq:worker:host-gpu0")  # RQ's registration outlives the process
    wait_until(lambda: not redis_client.exists(keys.alive("host-gpu0")), 10, what="liveness key to lapse")
    workers(redis_url, "host-gpu0")  # fails (exits) if RQ refuses the name
    hold.release()
    wait_until(lambda: job_of(redis_client, r.request_id).get_status() == JobStatus.FINISHED, 30,
               what="the interrupted job to finish")
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
