"""Load test: many users through the real queue (limits on), a few CPU workers; nothing may be lost.

Usage::

    python benchmarks/load_test.py                                   # 1,000 requests, 100 users, 2 workers
    python benchmarks/load_test.py --composer noop --noop-delay-ms 300 --requests 1000 --users 100

Each user sends ``requests / users`` poems at random moments over ``--spread-s`` seconds, through
``PoemService.submit`` with the production limits (``QueueSettings`` defaults: per-user and per-chat
windows, the queue cap). Every admitted request must come back as exactly one reply; refused ones
are counted by reason (that is "what the limits admit"). Queue depth is sampled every second.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

from queue_bench import TOPICS, Collector, pct, start_workers, stop_workers  # noqa: E402

from worker.contract.connection import connect  # noqa: E402
from worker.contract.protocol import PoemRequest  # noqa: E402
from worker.contract.redis_server import RedisServer  # noqa: E402
from worker.contract.service import PoemService  # noqa: E402
from worker.contract.settings import QueueSettings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--chats", type=int, default=20, help="users are spread over this many group chats")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--composer", default="real", choices=("real", "noop"))
    parser.add_argument("--noop-delay-ms", type=int, default=300)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--spread-s", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="poetcore-load-"))
    server = RedisServer(tmp / "redis", appendonly=True).start()
    settings = QueueSettings(queue="load")
    svc = PoemService(connect(server.url), settings)
    procs = start_workers(server.url, args.workers, "load", args.composer, 1, None, tmp,
                          {"POETCORE_NOOP_DELAY_MS": str(args.noop_delay_ms), "OMP_NUM_THREADS": "1"})
    collector = Collector(server.url, "telegram").start()
    rng = random.Random(args.seed)
    per_user = args.requests // args.users
    plan = sorted((rng.uniform(0, args.spread_s), u) for u in range(args.users) for _ in range(per_user))
    outcomes: Counter[str] = Counter()
    submitted: dict[str, float] = {}
    depth: list[tuple[float, int]] = []
    client = connect(server.url)
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            depth.append((time.perf_counter() - start, int(client.llen("rq:queue:load"))))

    start = time.perf_counter()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        for at, user in plan:
            delay = start + at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            req = PoemRequest(platform="telegram", chat_id=f"chat{user % args.chats}", user_id=f"user{user}",
                              topic=TOPICS[rng.randrange(len(TOPICS))], options={"n": args.candidates})
            result = svc.submit(req)
            outcomes[result.outcome] += 1
            if result.accepted:
                submitted[req.request_id] = time.perf_counter()
        collector.wait_for(set(submitted), 3600)
        end = time.perf_counter()
        time.sleep(2.0)  # any duplicate would arrive now
    finally:
        stop.set()
        collector.stop()
        stop_workers(procs)
        server.stop()
    replies = collector.arrived
    lat = [(replies[r][0] - t) * 1000 for r, t in submitted.items()]
    statuses = Counter(replies[r][1].status for r in submitted)
    stray = set(replies) - set(submitted)
    print(f"{args.requests} requests from {args.users} users in {args.chats} chats over {args.spread_s:.0f} s; "
          f"{args.workers} workers, composer {args.composer}, {args.candidates} candidates")
    print(f"limits admitted {len(submitted)}: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
    print(f"replies: {len(set(replies) & set(submitted))} of {len(submitted)} admitted ({dict(statuses)}); "
          f"lost {len(set(submitted) - set(replies))}, stray {len(stray)}")
    print(f"submit -> reply p50 {pct(lat, 0.5):.0f} ms, p95 {pct(lat, 0.95):.0f} ms, max {max(lat):.0f} ms; "
          f"drained {end - start:.0f} s after the first submit")
    peak = max(depth, key=lambda x: x[1]) if depth else (0.0, 0)
    print(f"queue depth: peak {peak[1]} at {peak[0]:.0f} s; every 10 s: "
          + " ".join(str(d) for t, d in depth[::10]))


if __name__ == "__main__":
    main()
