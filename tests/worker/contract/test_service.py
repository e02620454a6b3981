"""Admission, limits, status and cancellation (worker.contract.service.PoemService) on a real Redis."""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
import redis
from rq import Queue
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from support.settings import make_worker_config

from worker.contract import keys
from worker.contract.connection import connect
from worker.contract.protocol import PoemReply, PoemRequest
from worker.contract.service import AsyncPoemService, PoemService
from worker.contract.settings import QueueSettings
from worker.worker import PoemWorker


def settings(**overrides: object) -> QueueSettings:
    base: dict[str, object] = {"log_format": "text", "user_limit": 0, "chat_limit": 0}
    base.update(overrides)
    return QueueSettings(_env_file=None, **base)  # type: ignore[call-arg]


def noop_worker(connection: redis.Redis, s: QueueSettings) -> PoemWorker:
    return PoemWorker(connection=connection, config=make_worker_config(s, composer="noop"))


def req(user: str = "u1", chat: str = "c1", **kw: object) -> PoemRequest:
    return PoemRequest(platform="telegram", chat_id=chat, user_id=user, topic="春雨", **kw)


def stream_replies(client: redis.Redis, platform: str = "telegram") -> list[PoemReply]:
    return [PoemReply.from_json(f[b"reply"]) for _id, f in client.xrange(keys.reply_stream(platform))]


def test_accepted_jobs_are_json_jobs_by_dotted_path(redis_url: str, redis_client: redis.Redis) -> None:
    svc = PoemService.from_url(redis_url, settings(retry_max=2, retry_intervals_s=[1, 3], job_timeout_s=30))
    results = [svc.submit(req()) for _ in range(3)]
    assert [r.outcome for r in results] == ["accepted"] * 3
    assert [r.position for r in results] == [1, 2, 3]
    job = Job.fetch(results[0].request_id, connection=redis_client, serializer=JSONSerializer)
    assert job.func_name == "worker.jobs.compose_poem"
    assert job.args[0]["request_id"] == results[0].request_id and job.args[0]["topic"] == "春雨"
    assert job.timeout == 30 and job.retries_left == 2 and job.retry_intervals == [1, 3]
    assert redis_client.hget(f"rq:job:{job.id}", "failure_callback_name") == b"worker.jobs.on_job_failure"
    raw = redis_client.hget(f"rq:job:{job.id}", "data")
    assert raw is not None
    func, _instance, args, _kwargs = json.loads(zlib.decompress(raw))  # JSON (zlib-packed by RQ), not pickle
    assert func == "worker.jobs.compose_poem" and args[0]["platform"] == "telegram"
    assert svc.queue_length() == 3 and svc.position(results[2].request_id) == 3


def test_duplicate_request_id_is_not_enqueued_twice(redis_url: str) -> None:
    svc = PoemService.from_url(redis_url, settings())
    first = req()
    assert svc.submit(first).accepted
    again = svc.submit(first)
    assert again.outcome == "duplicate" and again.position == 1
    assert svc.queue_length() == 1


def test_per_user_limit_with_retry_after(redis_url: str) -> None:
    svc = PoemService.from_url(redis_url, settings(user_limit=2, user_window_s=30))
    start = time.monotonic()
    outcomes = [svc.submit(req(user="alice")).outcome for _ in range(3)]
    assert outcomes == ["accepted", "accepted", "rate_limited"]
    limited = svc.submit(req(user="alice"))
    elapsed = time.monotonic() - start  # the wait shrinks by the time the test took, however slow the machine
    assert limited.scope == "user" and limited.retry_after_s is not None
    assert 30 - math.ceil(elapsed) - 1 <= limited.retry_after_s <= 30
    assert svc.submit(req(user="bob")).accepted  # other users are unaffected
    assert svc.queue_length() == 3  # limited requests never reach the queue


def test_per_chat_limit(redis_url: str) -> None:
    svc = PoemService.from_url(redis_url, settings(chat_limit=2, chat_window_s=60))
    assert svc.submit(req(user="a", chat="g")).accepted
    assert svc.submit(req(user="b", chat="g")).accepted
    limited = svc.submit(req(user="c", chat="g"))
    assert limited.outcome == "rate_limited" and limited.scope == "chat"


def test_window_slides(redis_url: str, redis_client: redis.Redis) -> None:
    svc = PoemService.from_url(redis_url, settings(user_limit=1, user_window_s=1))
    assert svc.submit(req()).accepted
    assert svc.submit(req()).outcome == "rate_limited"
    # age the recorded admission by 1 s instead of sleeping
    key = keys.user_window("telegram", "u1")
    member, score = redis_client.zrange(key, 0, 0, withscores=True)[0]
    redis_client.zadd(key, {member: score - 1001})
    assert svc.submit(req()).accepted


def test_limits_hold_under_concurrent_submitters(redis_url: str) -> None:
    svc = PoemService.from_url(redis_url, settings(user_limit=5, user_window_s=60, max_queue_length=1000))
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: svc.submit(req(user="spammer")).outcome, range(40)))
    assert outcomes.count("accepted") == 5
    assert outcomes.count("rate_limited") == 35


def _submit_many(url: str, cap: int, users: list[str]) -> list[str]:
    """One submitter (a bot process or thread) with its own connection; returns the outcomes."""
    svc = PoemService.from_url(url, settings(max_queue_length=cap))
    return [svc.submit(req(user=u, chat=u)).outcome for u in users]


@pytest.mark.parametrize("submitters", ["threads", "processes"])
def test_queue_cap_is_exact_under_concurrent_submitters(redis_url: str, redis_client: redis.Redis,
                                                        submitters: str) -> None:
    """Issue 27: "queue poems full (201 waiting)". Admission read the queue length in its script, but
    RQ pushed the job afterwards, so concurrent submitters all saw room for one more. With nobody
    serving, every admitted request stays waiting: the queue ends at exactly the cap, whatever the
    interleaving, and an overshoot would stay visible."""
    cap = 20
    count, per_submitter = (8, 15) if submitters == "threads" else (4, 30)  # processes: each spawn costs ~1 s
    batches = [[f"s{i}-u{k}" for k in range(per_submitter)] for i in range(count)]
    if submitters == "threads":
        with ThreadPoolExecutor(count) as pool:
            results = list(pool.map(lambda users: _submit_many(redis_url, cap, users), batches))
    else:
        with ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_submit_many, [redis_url] * count, [cap] * count, batches))
    outcomes = [o for batch in results for o in batch]
    assert outcomes.count("accepted") == cap and outcomes.count("busy") == count * per_submitter - cap
    assert PoemService.from_url(redis_url, settings()).queue_length() == cap
    assert redis_client.zcard(keys.admitting("poems")) == 0  # every reservation released on enqueue


def test_a_reservation_of_a_bot_that_died_lapses(redis_url: str, redis_client: redis.Redis) -> None:
    """A bot killed between admission and push leaves a reservation; it holds the slot only until
    its deadline, then the slot is free again."""
    svc = PoemService.from_url(redis_url, settings(max_queue_length=2))
    assert svc.submit(req(user="a")).accepted
    redis_client.zadd(keys.admitting("poems"), {"orphan": int(time.time() * 1000) + 60_000})  # the dead bot's
    assert svc.submit(req(user="b")).outcome == "busy"
    redis_client.zadd(keys.admitting("poems"), {"orphan": int(time.time() * 1000) - 1})  # its deadline passed
    assert svc.submit(req(user="c")).accepted
    assert svc.queue_length() == 2 and redis_client.zcard(keys.admitting("poems")) == 0


def test_queue_full_answers_busy(redis_url: str, redis_client: redis.Redis) -> None:
    svc = PoemService.from_url(redis_url, settings(max_queue_length=3))
    assert all(svc.submit(req(user=f"u{i}")).accepted for i in range(3))
    redis_client.set(keys.service_time("poems"), "4000")  # workers measured 4 s per job
    busy = svc.submit(req(user="late"))
    assert busy.outcome == "busy" and busy.retry_after_s == 12  # 3 waiting × 4 s / 1 worker: the honest drain time
    for name in ("w1", "w2"):  # two live workers drain it twice as fast
        redis_client.sadd(keys.workers("poems"), name)
        redis_client.set(keys.alive(name), "1", px=10_000)
    assert svc.submit(req(user="later")).retry_after_s == 6
    assert svc.queue_length() == 3
    # a busy answer does not use up the user's rate limit
    assert redis_client.zcard(keys.user_window("telegram", "late")) == 0


def test_status_through_the_lifecycle(redis_url: str) -> None:
    s = settings()
    svc = PoemService.from_url(redis_url, s)
    a, b = svc.submit(req()), svc.submit(req())
    st = svc.status(b.request_id)
    assert (st.state, st.position, st.queue_length) == ("queued", 2, 2)
    assert svc.status("nope").state == "unknown"
    noop_worker(connect(redis_url), s).work(burst=True)
    assert svc.status(a.request_id).state == "done"
    assert svc.info().waiting == 0


def test_cancel_rules(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings()
    svc = PoemService.from_url(redis_url, s)
    mine = svc.submit(req(user="owner", route={"placeholder_id": 77}))
    other = svc.submit(req(user="owner"))
    assert svc.cancel("does-not-exist", "owner").outcome == "not_found"
    denied = svc.cancel(mine.request_id, "intruder")
    assert denied.outcome == "forbidden"
    done = svc.cancel(mine.request_id, "owner")
    assert done.cancelled
    assert svc.queue_length() == 1 and svc.position(other.request_id) == 1
    assert svc.status(mine.request_id).state == "cancelled"
    assert svc.cancel(mine.request_id, "owner").outcome == "finished"
    # the cancelled reply is published (with the route) so the bot can edit its "queued" message
    replies = stream_replies(redis_client)
    assert [(r.request_id, r.status, r.route) for r in replies] == [(mine.request_id, "cancelled", {"placeholder_id": 77})]
    noop_worker(connect(redis_url), s).work(burst=True)
    statuses = {r.request_id: r.status for r in stream_replies(redis_client)}
    assert statuses == {mine.request_id: "cancelled", other.request_id: "ok"}
    assert svc.cancel(other.request_id, "owner").outcome == "finished"


def test_cancel_racing_a_worker_yields_one_reply(redis_url: str, redis_client: redis.Redis) -> None:
    """The worker popped the job (still 'queued') just as the owner cancels: no poem follows."""
    s = settings()
    svc = PoemService.from_url(redis_url, s)
    r = svc.submit(req())
    conn = connect(redis_url)
    queue = Queue("poems", connection=conn, serializer=JSONSerializer)
    job, _q = Queue.dequeue_any([queue], None, connection=conn, serializer=JSONSerializer)  # type: ignore[misc]
    assert svc.cancel(r.request_id, "u1").cancelled
    worker = noop_worker(conn, s)
    worker.load()
    worker.execute_job(job, queue)
    assert [x.status for x in stream_replies(redis_client)] == ["cancelled"]
    assert Job.fetch(job.id, connection=conn, serializer=JSONSerializer).return_value()["status"] == "skipped"


def test_cancel_running_job_is_refused(redis_url: str) -> None:
    svc = PoemService.from_url(redis_url, settings())
    r = svc.submit(req())
    job = Job.fetch(r.request_id, connection=svc.connection, serializer=JSONSerializer)
    job.set_status(JobStatus.STARTED)
    res = svc.cancel(r.request_id, "u1")
    assert res.outcome == "running"


async def test_async_wrapper(redis_url: str) -> None:
    svc = AsyncPoemService(PoemService.from_url(redis_url, settings()))
    results = await asyncio.gather(*(svc.submit(req(user=f"u{i}")) for i in range(4)))
    assert sorted(r.position or 0 for r in results) == [1, 2, 3, 4]
    assert await svc.queue_length() == 4
    assert (await svc.status(results[0].request_id)).state == "queued"
    assert (await svc.cancel(results[0].request_id, "u0")).cancelled
