"""Jobs through a real RQ worker in this process (worker.jobs, worker.worker): replies, failures, retries."""

from __future__ import annotations

import dataclasses
import logging
import time
from pathlib import Path

import pytest
import redis
from prometheus_client import REGISTRY
from rq import Queue
from rq.job import Callback, Job, JobStatus
from rq.serializers import JSONSerializer
from support.queue import make_request, stream_replies, worker_config
from support.workers import collect

from worker.contract.connection import connect, connect_async
from worker.contract.replies import ReplyConsumer
from worker.contract.service import PoemService
from worker.engine import NoopComposer
from worker.reaper import Reaper
from worker.settings import WorkerConfig
from worker.worker import PoemWorker

settings = worker_config
req = make_request
replies = stream_replies


def run_burst(redis_url: str, s: WorkerConfig, **kw: object) -> PoemWorker:
    worker = PoemWorker(connection=connect(redis_url), config=s, **kw)  # type: ignore[arg-type]
    worker.work(burst=True)
    return worker


async def test_enqueue_worker_stream_consumer(redis_url: str) -> None:
    s = settings()
    svc = PoemService.from_url(redis_url, s.queue)
    sent = [req(topic=t, route={"reply_to_message_id": i}) for i, t in enumerate(["春雨", "秋月", "冬雪"])]
    for r in sent:
        assert svc.submit(r).accepted
    run_burst(redis_url, s)
    consumer = ReplyConsumer(connect_async(redis_url, block_s=1), "telegram", block_ms=100)
    got = await collect(consumer, 3)
    assert [(g.request_id, g.status, g.route) for g in got] == [(r.request_id, "ok", r.route) for r in sent]
    assert all(g.poem is not None and g.poem.title == r.topic for g, r in zip(got, sent, strict=True))
    assert all(g.timings.queued_ms is not None and g.timings.generate_ms is not None for g in got)
    assert all(Job.fetch(r.request_id, connection=svc.connection, serializer=JSONSerializer).get_status()
               == JobStatus.FINISHED for r in sent)


def test_unparseable_request_gets_a_failure_reply_without_retry(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings(retry_max=2)
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    bad = req().model_dump(mode="json") | {"options": {"n": 999}}
    newer = req().model_dump(mode="json") | {"v": 2}
    hopeless = {"no": "routing"}
    for payload in (bad, newer, hopeless):
        q.enqueue("worker.jobs.compose_poem", payload)
    run_burst(redis_url, s)
    got = {r.request_id: r for r in replies(redis_client)}
    assert got[bad["request_id"]].status == "failed" and got[bad["request_id"]].error.code == "bad_request"  # type: ignore[union-attr]
    assert got[newer["request_id"]].error.code == "unsupported_version"  # type: ignore[union-attr]
    assert len(got) == 2  # nothing to route the third to; it is logged
    assert q.failed_job_registry.count == 0  # answered, not retried


def test_a_retried_failure_logs_one_warning_without_traceback(redis_url: str, redis_client: redis.Redis,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """Issue 27: a failure RQ retries is expected and handled: one WARNING line, no traceback, no
    ERROR (RQ's own ERROR with the traceback stays for the last failure), counted in a metric."""
    s = settings(retry_max=2)
    svc = PoemService(connect(redis_url), s.queue, job_function="support.jobs.fail_first")
    r = req(route={"fail_times": 1})
    svc.submit(r)
    retried_before = REGISTRY.get_sample_value("poetcore_jobs_total", {"status": "retried"}) or 0.0
    caplog.set_level(logging.DEBUG)
    run_burst(redis_url, s)
    assert [x.status for x in replies(redis_client)] == ["ok"]
    loud = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert [rec.levelno for rec in loud if "retried" in rec.getMessage()] == [logging.WARNING]
    assert [rec.getMessage() for rec in loud if rec.levelno >= logging.ERROR] == []
    assert [rec.getMessage() for rec in loud if rec.exc_info or "Traceback" in rec.getMessage()] == []
    assert REGISTRY.get_sample_value("poetcore_jobs_total", {"status": "retried"}) == retried_before + 1


def test_the_last_failure_keeps_its_error_and_traceback(redis_url: str, redis_client: redis.Redis,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """An operator must act on a job that failed for good: that one is an ERROR with its traceback."""
    s = settings(retry_max=0)
    svc = PoemService(connect(redis_url), s.queue, job_function="support.jobs.always_fail")
    svc.submit(req())
    caplog.set_level(logging.INFO)
    run_burst(redis_url, s)
    errors = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.ERROR]
    assert any("permanent failure injected by the test" in m and "Traceback" in m for m in errors), errors


def test_transient_failure_is_retried_then_served(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings(retry_max=2)
    svc = PoemService(connect(redis_url), s.queue, job_function="support.jobs.fail_first")
    r = req(route={"fail_times": 2})
    svc.submit(r)
    run_burst(redis_url, s)
    assert redis_client.get(f"test:attempts:{r.request_id}") == b"3"
    assert [(x.request_id, x.status) for x in replies(redis_client)] == [(r.request_id, "ok")]


def test_retries_exhausted_give_one_failure_reply(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings(retry_max=1)
    svc = PoemService(connect(redis_url), s.queue, job_function="support.jobs.always_fail")
    r = req(locale="en")
    svc.submit(r)
    run_burst(redis_url, s)
    got = replies(redis_client)
    assert [(x.status, x.error.code if x.error else None) for x in got] == [("failed", "internal")]
    assert got[0].error is not None and got[0].error.engine_message("en") is None  # the bots word codes
    assert svc.status(r.request_id).state == "failed"


def test_job_that_ran_twice_yields_one_reply(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings(retry_max=1)
    svc = PoemService(connect(redis_url), s.queue, job_function="support.jobs.publish_then_fail")
    r = req()
    svc.submit(r)
    run_burst(redis_url, s)
    assert redis_client.get(f"test:attempts:{r.request_id}") == b"2"  # it really ran twice
    assert [(x.request_id, x.status) for x in replies(redis_client)] == [(r.request_id, "ok")]


def test_timeout_gives_a_timeout_reply(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings(retry_max=0, job_timeout_s=1, noop_delay_ms=3000)
    svc = PoemService.from_url(redis_url, s.queue)
    svc.submit(req())
    run_burst(redis_url, s)
    got = replies(redis_client)
    assert [(x.status, x.error.code if x.error else None) for x in got] == [("failed", "timeout")]
    assert got[0].error is not None and got[0].error.message_zh is None


def test_retry_back_off_waits_then_runs(redis_url: str, redis_client: redis.Redis) -> None:
    """With a back-off the retry sits in the ScheduledJobRegistry until the reaper enqueues it."""
    s = settings(retry_max=1, retry_intervals_s=[3600])  # never due by itself while the test runs
    svc = PoemService(connect(redis_url), s.queue, job_function="support.jobs.fail_first")
    r = req()
    svc.submit(r)
    run_burst(redis_url, s)
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    assert q.scheduled_job_registry.get_job_ids() == [r.request_id] and replies(redis_client) == []
    reaper = Reaper(redis_client, ["poems"], s.queue)
    reaper.run_once()
    assert q.count == 0  # not due yet
    # bring the back-off to its end instead of sleeping through it
    redis_client.zadd(q.scheduled_job_registry.key, {r.request_id: int(time.time()) - 1})
    reaper.run_once()  # the previous pass released the lock: this one runs at once
    assert q.job_ids == [r.request_id]
    run_burst(redis_url, s)
    assert [x.status for x in replies(redis_client)] == ["ok"]


def test_batching_serves_several_jobs_per_call(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings(max_batch=4)
    svc = PoemService.from_url(redis_url, s.queue)
    sent = [req(topic=t) for t in "一二三四五六"]
    for r in sent:
        svc.submit(r)
    worker = run_burst(redis_url, s)
    assert worker.engine is not None and isinstance(worker.engine.composer, NoopComposer)
    assert worker.engine.composer.calls == 2  # 4 + 2, not 6
    assert sorted(x.request_id for x in replies(redis_client)) == sorted(r.request_id for r in sent)
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    assert q.finished_job_registry.count == 6
    assert q.started_job_registry.count == 0 and redis_client.llen(q.intermediate_queue_key) == 0


def test_batch_failure_fails_each_job_through_rq(redis_url: str, redis_client: redis.Redis) -> None:
    s = settings(max_batch=3, retry_max=0, job_timeout_s=1, noop_delay_ms=2500)
    svc = PoemService.from_url(redis_url, s.queue)
    sent = [req(topic=t) for t in "一二三"]
    for r in sent:
        svc.submit(r)
    run_burst(redis_url, s)
    got = replies(redis_client)
    assert sorted((x.request_id, x.error.code if x.error else "") for x in got) == sorted(
        (r.request_id, "timeout") for r in sent)
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    assert q.failed_job_registry.count == 3 and q.started_job_registry.count == 0


# --- with the real composer (tiny random model) -----------------------------------------------

@pytest.fixture
def tiny_settings(tiny_model_dir: Path) -> WorkerConfig:
    return settings(composer="real", model=tiny_model_dir, device="cpu")


def test_real_composer_through_the_queue(redis_url: str, redis_client: redis.Redis,
                                         tiny_settings: WorkerConfig) -> None:
    from poetcore.prosody.checker import check

    svc = PoemService.from_url(redis_url, tiny_settings.queue)
    good = req(topic="秋月", options={"n": 1, "seed": 3})
    acrostic = req(kind="acrostic", heads="春夏秋冬", topic="", options={"n": 1, "traditional": True})
    bad_form = req(form="十四行诗", options={"n": 1})
    for r in (good, acrostic, bad_form):
        svc.submit(r)
    worker = run_burst(redis_url, tiny_settings)
    assert worker.engine is not None and worker.engine.load_s > 0 and worker.engine.device == "cpu"
    got = {r.request_id: r for r in replies(redis_client)}
    ok = got[good.request_id]
    assert ok.status == "ok" and ok.poem is not None and check(ok.poem.text, form="七绝").ok
    assert got[acrostic.request_id].status == "ok"
    assert got[bad_form.request_id].status == "failed"
    assert got[bad_form.request_id].error.code == "unknown_form"  # type: ignore[union-attr]
    assert "五绝" in got[bad_form.request_id].error.engine_message("zh")  # type: ignore[union-attr,operator]
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    assert q.failed_job_registry.count == 0  # bad input is answered, never retried


def test_the_reply_says_how_the_poem_was_written(redis_url: str, redis_client: redis.Redis,
                                                 tiny_settings: WorkerConfig) -> None:
    """The worker's reply carries what the bot used to work out again: the script the engine wrote
    in, a couplet job's two lines, and the 犯律 of the user's own 续写 lines."""
    svc = PoemService.from_url(redis_url, tiny_settings.queue)
    couplet = req(kind="continue", form="五言联", prefix="白日依山尽", topic="", options={"n": 1, "seed": 2})
    faulty = req(kind="continue", form="五绝", prefix="平平平平平", topic="", options={"n": 1, "seed": 2})
    trad = req(topic="秋月", options={"n": 1, "seed": 3, "traditional": True})
    for r in (couplet, faulty, trad):
        svc.submit(r)
    run_burst(redis_url, tiny_settings)
    got = {r.request_id: r.poem for r in replies(redis_client)}
    pair, broken, old_script = got[couplet.request_id], got[faulty.request_id], got[trad.request_id]
    assert pair is not None and pair.form == "五言联" and len(pair.lines) == 2 and pair.lines[0] == "白日依山尽"
    assert pair.prefix_faults == [] and not pair.traditional
    assert broken is not None and broken.lines[0] == "平平平平平" and broken.prefix_faults
    assert all("第一句" in f.message_zh or "1" in f.message_en for f in broken.prefix_faults)
    assert old_script is not None and old_script.traditional and old_script.prefix_faults == []


@pytest.mark.slow
def test_real_composer_batch(redis_url: str, redis_client: redis.Redis, tiny_settings: WorkerConfig) -> None:
    """One bad request in a batch gets its own failure; the others are still served."""
    s = dataclasses.replace(tiny_settings, worker=tiny_settings.worker.model_copy(update={"max_batch": 2}))
    svc = PoemService.from_url(redis_url, s.queue)
    sent = [req(form="五绝", topic="江雪", options={"n": 1}), req(rhyme="不存在", options={"n": 1})]
    for r in sent:
        svc.submit(r)
    batches_before = REGISTRY.get_sample_value("poetcore_generate_seconds_count", {"batch": "2"}) or 0.0
    run_burst(redis_url, s)
    assert REGISTRY.get_sample_value("poetcore_generate_seconds_count", {"batch": "2"}) == batches_before + 1
    got = {r.request_id: r for r in replies(redis_client)}
    assert [got[r.request_id].status for r in sent] == ["ok", "failed"]
    assert got[sent[0].request_id].poem.form == "五绝"  # type: ignore[union-attr]
    assert got[sent[1].request_id].error.code == "unknown_rhyme"  # type: ignore[union-attr]
    assert Queue("poems", connection=redis_client, serializer=JSONSerializer).finished_job_registry.count == 2




def test_a_job_naming_any_other_function_is_refused_unrun(redis_url: str, redis_client: redis.Redis,
                                                           tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 10: JSON blocks pickle, not callables; only the project's job functions run."""
    marker = tmp_path / "pwned"
    q = Queue("poems", connection=redis_client, serializer=JSONSerializer)
    evil = q.enqueue("builtins.exec", f"open({str(marker)!r}, 'w').write('x')")
    sneaky = q.enqueue_call("worker.jobs.compose_poem", args=(req().model_dump(mode="json"),),
                            on_failure=Callback("builtins.print"))
    good = req()
    PoemService.from_url(redis_url, settings().queue).submit(good)
    caplog.set_level("ERROR", logger="worker.worker")
    run_burst(redis_url, settings())
    assert not marker.exists()
    assert Job.fetch(evil.id, connection=redis_client, serializer=JSONSerializer).get_status() == JobStatus.FAILED
    assert Job.fetch(sneaky.id, connection=redis_client, serializer=JSONSerializer).get_status() == JobStatus.FAILED
    assert "refusing job" in caplog.text and "builtins.exec" in caplog.text
    assert [r.request_id for r in replies(redis_client)] == [good.request_id]  # the real job still served
