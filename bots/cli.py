"""``poetbot``: serve the chat front-ends, try the bot in a terminal, or run poem workers.

    poetbot serve [--embedded-worker]   Telegram and/or Discord, whichever tokens are configured
    poetbot demo                        console chat with an embedded Redis and worker (no token)
    poetbot worker ...                  poem workers: runs ``python -m worker ...`` (see ``worker.cli``)

The bots import only the torch-free contract of the queue (``worker.contract``). ``poetbot worker``
therefore hands over to the worker's own entry point by module name instead of importing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated

import typer

from bots.console import run_demo
from bots.core.chat import ChatCore
from bots.core.settings import BotConfig, load_bot_config
from bots.telegram import run_telegram
from poetcore.settings import UnknownSettingError
from worker.contract.health import Health
from worker.contract.launch import WORKER_MODULE, SupervisedWorker
from worker.contract.logs import configure_logging
from worker.contract.metrics import start_metrics_server
from worker.contract.redis_server import resolve_redis_url
from worker.contract.replies import ReplyConsumer
from worker.contract.service import PoemService
from worker.contract.settings import redact_url

app = typer.Typer(
    name="poetbot",
    help="Poetcore chat bots: serve Telegram/Discord, try the console demo, run poem workers.",
    no_args_is_help=True,
    add_completion=False,
)
log = logging.getLogger("bots.cli")

EnvFile = Annotated[Path | None, typer.Option(help="settings file [default: $POETCORE_ENV_FILE or ./poetcore.env]")]


def _load(env_file: Path | None) -> BotConfig:
    try:
        return load_bot_config(env_file)
    except UnknownSettingError as exc:
        typer.echo(f"poetbot: {exc}", err=True)
        raise typer.Exit(2) from exc
    except (ValueError, FileNotFoundError) as exc:
        typer.echo(f"poetbot: invalid settings: {exc}", err=True)
        raise typer.Exit(2) from exc


FrontEnd = Callable[[], Awaitable[None]]


def _front_ends(config: BotConfig, url: str, health: Health | None = None) -> dict[str, FrontEnd]:
    """The front-ends whose tokens are configured, each with its own ChatCore and reply consumer.

    With ``health``, each platform is a part of it: the process is not ready until the platform
    answers (an unreachable one is waited for with back-off, never a crash loop).
    """
    settings, queue_settings = config.bot, config.queue

    def core() -> ChatCore:
        return ChatCore(PoemService.from_url(url, queue_settings), settings)

    found: dict[str, FrontEnd] = {}
    if settings.telegram_token_value:
        if health is not None:
            health.set_part_ready("telegram", False)  # from the first probe on, until getMe answers
        found["telegram"] = lambda: run_telegram(
            core(), settings, ReplyConsumer.from_settings(queue_settings, "telegram", url), health
        )
    if config.discord.token_value:
        try:
            # Optional extra: the one import that stays lazy, so a Telegram-only install works.
            from bots.discord import run_discord
        except ImportError as exc:
            typer.echo(
                f"poetbot serve: DISCORD_TOKEN is set but the Discord front-end cannot load ({exc}); "
                "install it with `pip install 'poetcore[discord]'`, or unset DISCORD_TOKEN.",
                err=True,
            )
            raise typer.Exit(2) from exc
        if health is not None:
            health.set_part_ready("discord", False)  # until the gateway says READY
        found["discord"] = lambda: run_discord(
            core(), config.discord, ReplyConsumer.from_settings(queue_settings, "discord", url), health
        )
    return found


LOOP_STALL_S = 30.0
"""The bots' event loop is stuck (not alive) when its one-second health tick is this late."""


async def _tick_health(health: Health) -> None:
    """Ready once the loop runs; "busy" from one tick to the next, so a blocked loop goes not alive."""
    health.mark_ready()
    while True:
        health.busy()
        await asyncio.sleep(1.0)


async def _serve_all(front_ends: dict[str, FrontEnd]) -> None:
    """Run every front-end until SIGINT/SIGTERM, or until one fails (then stop the others)."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    tasks: dict[asyncio.Future[None], str] = {asyncio.ensure_future(run()): name for name, run in front_ends.items()}
    stopper: asyncio.Future[None] = asyncio.ensure_future(stop.wait())  # type: ignore[arg-type]
    waiting: set[asyncio.Future[None]] = {*tasks, stopper}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    for task in waiting:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [(tasks[t], r) for t, r in zip(tasks, results, strict=True) if isinstance(r, Exception)]
    if failures:
        name, exc = failures[0]
        raise RuntimeError(f"{name} front-end stopped: {exc}") from exc


@app.command("serve")
def serve_command(
    embedded_worker: Annotated[
        bool, typer.Option("--embedded-worker", help="also run a poem worker on this machine (single-box set-ups)")
    ] = False,
    env_file: EnvFile = None,
    log_level: Annotated[str, typer.Option(help="DEBUG | INFO | WARNING")] = "INFO",
    metrics_port: Annotated[int | None, typer.Option(
        help="serve /metrics and /healthz here [default: POETCORE_METRICS_PORT, else none]")] = None,
) -> None:
    """Serve the chat front-ends whose tokens are set (TELEGRAM_TOKEN, DISCORD_TOKEN)."""
    config = _load(env_file)
    settings, queue_settings = config.bot, config.queue
    port = metrics_port if metrics_port is not None else queue_settings.metrics_port
    configure_logging(log_level, queue_settings.log_format)
    if not (settings.telegram_token_value or config.discord.token_value):
        typer.echo(
            "poetbot serve: no front-end configured. Set TELEGRAM_TOKEN (see docs/telegram.md) and/or "
            "DISCORD_TOKEN (see docs/discord.md), or try the bot without a token: `poetbot demo`.",
            err=True,
        )
        raise typer.Exit(2)
    url, embedded = resolve_redis_url(queue_settings)
    worker: SupervisedWorker | None = None
    health = Health(stall_after_s=LOOP_STALL_S) if port is not None else None
    try:
        front_ends = _front_ends(config, url, health)
        log.info("poetbot: serving %s with Redis at %s", ", ".join(front_ends),
                 redact_url(url) if queue_settings.redis_url else f"{url} (embedded)")
        if embedded_worker:
            worker = SupervisedWorker(url, Path(queue_settings.data_dir) / "worker.log")
            worker.start()
            supervised = worker
            front_ends["embedded worker"] = supervised.supervise
        if port is not None and health is not None:
            start_metrics_server(port, health=health)
            front_ends["health"] = lambda: _tick_health(health)
        asyncio.run(_serve_all(front_ends))
    except Exception as exc:
        typer.echo(f"poetbot serve: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        if worker is not None:
            worker.stop()
        if embedded is not None:
            embedded.stop()


@app.command("demo")
def demo_command(
    lang: Annotated[str, typer.Option("--lang", help="zh | en: language of the bot's answers")] = "zh",
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="start a poem worker for the demo")] = True,
    env_file: EnvFile = None,
) -> None:
    """Chat with the bot in this terminal (pipe commands in to script it). No token needed."""
    config = _load(env_file)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = asyncio.run(run_demo(config.bot, config.queue, locale=lang, start_worker=worker))
    except KeyboardInterrupt:
        code = 130
    raise typer.Exit(code)


@app.command(
    "worker",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def worker_command(ctx: typer.Context) -> None:
    """Run poem workers (all options: `poetbot worker --help`)."""
    # Replace this process: the worker is its own program with its own signals, and the bots never
    # import its runtime (torch, the composer).
    argv = [sys.executable, "-m", WORKER_MODULE, *ctx.args]
    os.execv(sys.executable, argv)


def main() -> None:  # pragma: no cover - the console script calls app()
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
