"""The bot↔worker contract: everything both sides of the queue import, and nothing else.

Torch-free and free of the worker runtime (``worker.worker``, ``worker.jobs``, ``worker.engine``),
which a test checks by importing every ``bots`` module in a clean interpreter.

    protocol      PoemRequest / PoemReply: the versioned JSON messages (codes, never words)
    keys          the Redis keys both sides use, and RQ's internals (the bots' own: bots.core.keys)
    settings      QueueSettings: the section of the settings tree both sides read
    service       PoemService: submit (limits, back-pressure), status, position, cancel
    replies       ReplyPublisher (workers) and ReplyConsumer (bots) on per-platform streams
    connection    Redis clients with deliberate timeouts
    logs          JSON logs carrying the request id across processes
    metrics       Prometheus metrics both sides export, and their server (the bots' own: bots.core.metrics)
    redis_server  the Redis-server supervisor (embedded redis-server) for single-box set-ups
    launch        start ``python -m worker`` as a child process, by module name
"""

__all__: list[str] = []
