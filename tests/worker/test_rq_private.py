"""The fence around RQ's private API (worker.rq_private) fails loudly on an RQ it was not written for."""

from __future__ import annotations

import ast
import logging

import pytest
import redis
import rq
from prometheus_client import REGISTRY
from support.queue import worker_config
from support.workers import REPO_DIR

from worker import rq_private
from worker.contract.connection import connect
from worker.worker import PoemWorker


def test_the_installed_rq_is_the_one_the_fence_was_written_for() -> None:
    rq_private.check_rq_version(rq.__version__)
    assert rq.__version__.startswith(rq_private.TESTED_RQ + ".")


@pytest.mark.parametrize("version", ["3.0.0", "2.11.1", "1.16.2"])
def test_another_rq_version_is_refused_with_advice(version: str) -> None:
    with pytest.raises(rq_private.RQVersionError, match=rf"RQ {version} is installed; install rq==2\.12\.\*"):
        rq_private.check_rq_version(version)


@pytest.mark.parametrize(
    ("owner", "name"), [(cls, name) for cls, names in rq_private.PRIVATE_NAMES.items() for name in names],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_every_private_member_the_fence_uses_exists(owner: type, name: str) -> None:
    assert hasattr(owner, name), f"RQ {rq.__version__} has no {owner.__name__}.{name}: port worker/rq_private.py"


def test_no_other_module_touches_rq_internals() -> None:
    """Underscore attributes of RQ objects and raw ``rq:`` keys appear only inside the fence."""
    offenders = []
    for path in sorted((REPO_DIR / "worker").rglob("*.py")):
        if path.name == "rq_private.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {
                "_enqueue_job", "_handle_failure", "_status", "_result", "prepare_execution", "prepare_job_execution",
                "handle_execution_ended", "handle_job_success", "handle_job_failure",
            }:
                offenders.append(f"{path.relative_to(REPO_DIR)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("rq:") \
                    and path.name != "keys.py":
                offenders.append(f"{path.relative_to(REPO_DIR)}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_rq_lines_for_a_redis_blip_are_warnings_counted_without_traceback(caplog: pytest.LogCaptureFixture) -> None:
    """RQ logs its own retry of a lost connection as an ERROR, and a Redis error ending its loop with a
    traceback although the worker reconnects; through the fence's adapter they read as what they are."""
    log = rq_private.RedisRetriesLog(logging.getLogger("rq.worker"))
    before = REGISTRY.get_sample_value("poetcore_redis_retries_total", {"part": "worker"}) or 0.0
    caplog.set_level(logging.DEBUG, logger="rq.worker")
    log.error("Worker %s: could not connect to Redis instance: %s retrying in %d seconds...", "w", "refused", 1)
    try:
        raise redis.ConnectionError("Connection closed by server.")
    except redis.ConnectionError:
        log.error("Worker %s: found an unhandled exception, quitting...", "w", exc_info=True)
    try:
        raise ValueError("a bug")
    except ValueError:
        log.error("Worker %s: found an unhandled exception, quitting...", "w", exc_info=True)
    levels = [(rec.levelno, rec.exc_info is not None) for rec in caplog.records]
    assert levels == [(logging.WARNING, False), (logging.DEBUG, False), (logging.ERROR, True)]
    assert REGISTRY.get_sample_value("poetcore_redis_retries_total", {"part": "worker"}) == before + 1
    assert caplog.records[0].filename != "rq_private.py"  # the line is attributed to its caller


def test_the_command_channel_ends_with_the_worker(redis_url: str) -> None:
    """Issue 22: burst workers logged "done, quitting" and then hung for a minute (the ``--gpus``
    parent waiting on them). RQ's unsubscribe sent UNSUBSCRIBE before stopping its pubsub reader;
    a reader woken by the reply first went round again and waited 60 s for a subscription, and
    redis-py 8's ``stop()`` waited for it. About one unsubscribe in twenty hit it here; each of
    these must end its reader because of the reply, not after a timeout."""
    for _ in range(20):
        worker = PoemWorker(connection=connect(redis_url), config=worker_config())
        worker.subscribe()
        reader = worker.pubsub_thread
        assert reader is not None and reader.is_alive()
        worker.unsubscribe()
        reader.join(30)  # bounds a failure only: the reader's own wait would be 60 s
        assert not reader.is_alive() and worker.pubsub_thread is None
