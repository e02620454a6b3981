"""Queue benchmark: throughput and added latency of the Redis/RQ path, then the real model.

Usage::

    python benchmarks/queue_bench.py                          # noop composer, then the real model
    python benchmarks/queue_bench.py --composer noop -n 500 --workers 1,2
    python benchmarks/queue_bench.py --composer real --batch 1,4,8 -n 16 --model path/to/model

Every case starts fresh ``python -m worker`` processes against one Redis (an embedded
redis-server with AOF ``everysec``, like production defaults, unless ``--redis-url``), submits
through ``PoemService`` and reads replies through a ``ReplyConsumer``, i.e. the same path a bot
uses. Two modes per case:

- ``serial``: one request at a time. "added" = end-to-end latency minus the composer's own time,
  i.e. what the queue, the worker loop, the reply stream and the consumer cost per request;
- ``load``: all requests submitted at once. jobs/s = requests / (last reply - first submit);
  this is where ``--batch`` (serving several queued requests per generate() call) can pay off.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from worker.contract import keys  # noqa: E402
from worker.contract.connection import connect, connect_async  # noqa: E402
from worker.contract.protocol import PoemReply, PoemRequest  # noqa: E402
from worker.contract.redis_server import RedisServer  # noqa: E402
from worker.contract.replies import ReplyConsumer  # noqa: E402
from worker.contract.service import PoemService  # noqa: E402
from worker.contract.settings import QueueSettings  # noqa: E402

TOPICS = ["秋月", "春雨", "江雪", "夜泊", "登高", "梅花", "边塞", "思乡"]


@dataclass
class Case:
    composer: str
    workers: int
    batch: int
    mode: str
    n: int
    candidates: int


@dataclass
class Row:
    case: Case
    jobs_per_s: float
    p50_ms: float
    p95_ms: float
    added_p50_ms: float
    added_p95_ms: float
    gen_ms: float


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class Collector:
    """A ReplyConsumer in its own thread and event loop, timing each reply's arrival."""

    def __init__(self, url: str, platform: str) -> None:
        self.url = url
        self.platform = platform
        self.arrived: dict[str, tuple[float, PoemReply]] = {}
        self.cond = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.consumer: ReplyConsumer | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.consumer = ReplyConsumer(connect_async(self.url, block_s=1), self.platform, consumer="bench",
                                      block_ms=200)

        async def read() -> None:
            assert self.consumer is not None
            async for delivery in self.consumer.replies():
                now = time.perf_counter()
                await self.consumer.ack(delivery)
                with self.cond:
                    self.arrived[delivery.reply.request_id] = (now, delivery.reply)
                    self.cond.notify_all()

        self.loop.run_until_complete(read())

    def start(self) -> Collector:
        self.thread.start()
        return self

    def wait_for(self, ids: set[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not ids <= self.arrived.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(ids - self.arrived.keys())} replies missing after {timeout} s")
                self.cond.wait(left)

    def stop(self) -> None:
        if self.consumer is not None:
            self.loop.call_soon_threadsafe(self.consumer.stop)
        self.thread.join(5)


def start_workers(url: str, count: int, queue: str, composer: str, batch: int, model: Path | None,
                  log_dir: Path, extra_env: dict[str, str] | None = None) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POETCORE_")}
    env.update(extra_env or {})
    env.update({"REDIS_URL": url, "POETCORE_QUEUE": queue, "POETCORE_COMPOSER": composer,
                "POETCORE_MAX_BATCH": str(batch), "POETCORE_DEVICE": os.environ.get("POETCORE_DEVICE", "auto"),
                "POETCORE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)})
    if model is not None:
        env["POETCORE_MODEL"] = str(model)
    procs = []
    for i in range(count):
        log = open(log_dir / f"{queue}-w{i}.log", "ab")  # noqa: SIM115 - owned by the child
        procs.append(subprocess.Popen([sys.executable, "-m", "worker", "--name", f"{queue}-w{i}", queue],
                                      env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT))
        log.close()
    client = connect(url)
    deadline = time.monotonic() + 600
    while sum(client.exists(keys.alive(f"{queue}-w{i}")) for i in range(count)) < count:  # alive = model loaded
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a worker exited during start-up; see {log_dir}")
        if time.monotonic() > deadline:
            raise TimeoutError("workers did not start")
        time.sleep(0.05)
    return procs


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def run_case(url: str, case: Case, index: int, model: Path | None, log_dir: Path) -> Row:
    queue, platform = f"bench{index}", f"bench{index}"
    settings = QueueSettings(queue=queue, user_limit=0, chat_limit=0, max_queue_length=1_000_000, retry_max=0)
    svc = PoemService(connect(url), settings)
    procs = start_workers(url, case.workers, queue, case.composer, case.batch, model, log_dir)
    collector = Collector(url, platform).start()
    try:
        requests = [PoemRequest(platform=platform, chat_id="bench", user_id=f"u{i}", topic=TOPICS[i % len(TOPICS)],
                                options={"n": case.candidates}) for i in range(case.n)]
        submitted: dict[str, float] = {}
        # one warm-up request so first-call costs do not land in the numbers
        warm = PoemRequest(platform=platform, chat_id="bench", user_id="warm", topic="热身",
                           options={"n": case.candidates})
        svc.submit(warm)
        collector.wait_for({warm.request_id}, 600)
        start = time.perf_counter()
        if case.mode == "serial":
            for r in requests:
                submitted[r.request_id] = time.perf_counter()
                svc.submit(r)
                collector.wait_for({r.request_id}, 600)
        else:
            for r in requests:
                submitted[r.request_id] = time.perf_counter()
                svc.submit(r)
            collector.wait_for({r.request_id for r in requests}, 3600)
        end = max(collector.arrived[r.request_id][0] for r in requests)
        lat, added, gen = [], [], []
        for r in requests:
            at, reply = collector.arrived[r.request_id]
            assert reply.status == "ok", reply.error
            total = (at - submitted[r.request_id]) * 1000
            g = reply.timings.generate_ms or 0.0
            lat.append(total)
            gen.append(g)
            added.append(total - g - (reply.timings.queued_ms or 0.0 if case.mode == "load" else 0.0))
        return Row(case, case.n / (end - start), pct(lat, 0.5), pct(lat, 0.95), pct(added, 0.5), pct(added, 0.95),
                   statistics.mean(gen))
    finally:
        collector.stop()
        stop_workers(procs)


def print_table(rows: list[Row]) -> None:
    head = (f"{'composer':8} {'workers':>7} {'batch':>5} {'mode':6} {'n':>5} {'cand':>4} {'jobs/s':>8} "
            f"{'p50 ms':>8} {'p95 ms':>8} {'added p50':>9} {'added p95':>9} {'gen ms':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        c = r.case
        print(f"{c.composer:8} {c.workers:>7} {c.batch:>5} {c.mode:6} {c.n:>5} {c.candidates:>4} "
              f"{r.jobs_per_s:>8.1f} {r.p50_ms:>8.1f} {r.p95_ms:>8.1f} {r.added_p50_ms:>9.1f} "
              f"{r.added_p95_ms:>9.1f} {r.gen_ms:>8.1f}")
    print("added = end-to-end minus time inside the composer (and, under load, minus time waiting in the queue)")


def default_model(tmp: Path) -> Path:
    from poetcore.model.modeling import default_model_dir

    shipped = default_model_dir()
    if (shipped / "config.json").exists():
        return shipped
    print("note: no shipped model yet; benchmarking a tiny random model (poetcore.model.testing.make_tiny_model)")
    from poetcore.model.testing import make_tiny_model

    return make_tiny_model(tmp / "tiny-model")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--composer", choices=["noop", "real", "both"], default="both")
    ap.add_argument("-n", type=int, default=None, help="requests per case [noop 300, real 16]")
    ap.add_argument("--workers", default="1", help="comma-separated worker counts")
    ap.add_argument("--batch", default="1,4", help="comma-separated max-batch values (real model, load mode)")
    ap.add_argument("--candidates", type=int, default=8, help="candidates per poem (options.n)")
    ap.add_argument("--model", type=Path, default=None, help="model dir [shipped model, else a tiny random one]")
    ap.add_argument("--redis-url", default=None, help="use this Redis instead of an embedded one")
    args = ap.parse_args()
    workers = [int(x) for x in args.workers.split(",")]
    batches = [int(x) for x in args.batch.split(",")]

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        server = None if args.redis_url else RedisServer(tmp / "redis").start()
        url = args.redis_url or server.url  # type: ignore[union-attr]
        cases: list[Case] = []
        if args.composer in ("noop", "both"):
            n = args.n or 300
            for w in workers:
                cases += [Case("noop", w, 1, "serial", n, 1), Case("noop", w, 1, "load", n, 1)]
        model = None
        if args.composer in ("real", "both"):
            model = args.model or default_model(tmp)
            n = args.n or 16
            for w in workers:
                cases.append(Case("real", w, 1, "serial", max(4, n // 2), args.candidates))
                cases += [Case("real", w, b, "load", n, args.candidates) for b in batches]
        rows = []
        try:
            for i, case in enumerate(cases):
                print(f"running {case} ...", flush=True)
                rows.append(run_case(url, case, i, model if case.composer == "real" else None, tmp))
        finally:
            if server is not None:
                server.stop()
        print()
        print_table(rows)


if __name__ == "__main__":
    main()
