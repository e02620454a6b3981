"""RQ workers that load the poem model once and serve jobs from Redis.

Torch-free at import time: bots import ``worker.protocol`` and ``worker.client``.
"""
