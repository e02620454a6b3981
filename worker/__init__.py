"""Poem workers: RQ workers that load the poem model once and serve jobs from Redis.

    contract    the torch-free bot↔worker contract (the only part the bots import)
    cli         ``poetbot worker`` / ``python -m worker``: the composition root
    settings    WorkerSettings and the WorkerConfig root (engine + queue + worker sections)
    worker      PoemWorker: non-forking RQ worker, model loaded once, optional batching
    jobs        worker.jobs.compose_poem, the RQ job; failure replies
    engine      loads the composer (torch imported here, lazily) and picks the device
    reaper      liveness heartbeats and prompt recovery of jobs of dead workers
    rq_private  every use of RQ's private API, pinned to the RQ version it was written for
    in_process  WorkerThread: a PoemWorker in a thread (tests, benchmarks)
"""

__all__: list[str] = []
