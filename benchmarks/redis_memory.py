"""Redis memory per request: what an accepted, served and delivered poem request leaves behind.

Usage::

    python benchmarks/redis_memory.py            # 1000 requests through the noop composer

Every request is admitted by ``PoemService``, served by a real ``PoemWorker`` (noop composer) and its
reply read and acknowledged through a ``ReplyConsumer``, then ``INFO memory`` is compared with the
empty server. What stays is what lives for the TTLs (request hash, job hash and result, reply
stream entry, dedupe markers): the number to size ``maxmemory`` with.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from poetcore.settings import EngineSettings  # noqa: E402
from worker.contract.connection import connect, connect_async  # noqa: E402
from worker.contract.protocol import PoemRequest  # noqa: E402
from worker.contract.redis_server import RedisServer  # noqa: E402
from worker.contract.replies import ReplyConsumer  # noqa: E402
from worker.contract.service import PoemService  # noqa: E402
from worker.contract.settings import QueueSettings  # noqa: E402
from worker.settings import WorkerConfig, WorkerSettings  # noqa: E402
from worker.worker import PoemWorker  # noqa: E402


async def _drain(url: str, count: int) -> None:
    consumer = ReplyConsumer(connect_async(url, block_s=1), "telegram", consumer="mem", block_ms=200)
    got = 0
    async for claimed in consumer.replies():
        await consumer.ack(claimed)
        got += 1
        if got == count:
            break
    await consumer.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, RedisServer(tmp, appendonly=False) as server:
        client = connect(server.url)
        before = int(client.info("memory")["used_memory"])
        queue = QueueSettings(_env_file=None, user_limit=0, chat_limit=0, max_queue_length=10**6)  # type: ignore[call-arg]
        svc = PoemService(client, queue)
        for i in range(args.n):
            svc.submit(PoemRequest(platform="telegram", chat_id=str(-1000 - i % 50), user_id=str(i), topic="秋月",
                                   route={"core": {"reply_to": str(i), "traditional": False}}))
        config = WorkerConfig(EngineSettings(_env_file=None), queue,  # type: ignore[call-arg]
                              WorkerSettings(_env_file=None, composer="noop"))  # type: ignore[call-arg]
        PoemWorker(connection=connect(server.url), config=config).work(burst=True)
        asyncio.run(_drain(server.url, args.n))
        after = int(client.info("memory")["used_memory"])
        per = (after - before) / args.n
        print(f"{args.n} requests: {after - before:,} bytes -> {per / 1024:.1f} KiB per request; "
              f"100k requests/day at the 24 h TTLs ~ {per * 100_000 / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
