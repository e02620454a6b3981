"""The bundled redis-server (worker.embedded) and connections (worker.connection)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from worker.contract.connection import connect
from worker.contract.redis_server import EmbeddedRedis, RedisServer, redis_server_binary, resolve_redis_url
from worker.contract.settings import QueueSettings


def test_binary_is_bundled_and_new_enough() -> None:
    import subprocess

    out = subprocess.run([str(redis_server_binary()), "--version"], capture_output=True, text=True, check=True)
    major, minor = (int(x) for x in out.stdout.split("v=")[1].split(".")[:2])
    assert (major, minor) >= (6, 2), "XAUTOCLAIM needs Redis >= 6.2"


def test_embedded_server_is_shared_and_stopped_by_its_owner(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    url = first.start()
    try:
        second = EmbeddedRedis(tmp_path)
        assert second.start() == url and not second.owned  # reuses, does not start another
        second.stop()  # not the owner: no effect
        assert connect(url).ping()
        connect(url).set("k", "v")
    finally:
        first.stop()
    with pytest.raises(redis.ConnectionError):
        connect(url).ping()
    # data survives in the AOF
    third = EmbeddedRedis(tmp_path)
    try:
        assert connect(third.start()).get("k") == b"v"
    finally:
        third.stop()


def test_resolve_prefers_redis_url(tmp_path: Path, redis_url: str) -> None:
    url, embedded = resolve_redis_url(QueueSettings(redis_url=redis_url, data_dir=tmp_path))
    assert url == redis_url and embedded is None
    url, embedded = resolve_redis_url(QueueSettings(data_dir=tmp_path))
    try:
        assert embedded is not None and connect(url).ping()
        assert (tmp_path / "redis" / "redis.conf").exists()
    finally:
        assert embedded is not None
        embedded.stop()


def test_password_protected_server(redis_server_factory: Callable[..., RedisServer]) -> None:
    server = redis_server_factory(appendonly=False, password="pw-Zz9")
    assert connect(server.url).ping()
    with pytest.raises(redis.AuthenticationError):
        connect(server.url.replace(":pw-Zz9@", "")).set("x", 1)
    conf = (server.data_dir / "redis.conf")
    assert oct(conf.stat().st_mode & 0o777) == "0o600"


def test_rediss_url_uses_tls() -> None:
    client = connect("rediss://:pw@cache.example:6380/0")
    assert client.connection_pool.connection_class is redis.SSLConnection
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 10.0


def test_blocking_clients_get_a_longer_timeout() -> None:
    client = connect("redis://localhost:1/0", block_s=30)
    assert client.connection_pool.connection_kwargs["socket_timeout"] == 40.0
