"""`poetcore data ...` commands."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.text import Text

from poetcore.data.corpus import CI_SPLIT_PREFIX, iter_poems
from poetcore.data.package import PACKAGE_SHA1
from poetcore.data.prepare import build_lines, prepare
from poetcore.data.split import SPLITS, split_of
from poetcore.errors import PoetcoreInputError
from poetcore.lexicon.bigrams import BIGRAMS_PATH, MIN_COUNT, BigramTable
from poetcore.lexicon.copyguard import CORPUS_LINES_PATH, GUARD_MIN_FAME, CorpusLines
from poetcore.lexicon.rhyme_usage import RHYME_USAGE_PATH, RhymeUsage
from poetcore.lexicon.seasons import SEASONS_PATH, SeasonLexicon
from poetcore.lines.index import LineIndex, builtin_index_path
from poetcore.prosody.cipu import CIPU_PATH, derive_cipu, save_cipu
from poetcore.prosody.rhymes import RhymeTable
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
    lines: Path | None = typer.Option(
        None, "--lines", help="Where to build the games' line index, when missing or --force (default: next to --out)."
    ),
    no_lines: bool = typer.Option(False, "--no-lines", help="Skip the line index."),
) -> None:
    """清洗全唐诗/全宋诗，保留五绝、七绝、五律、七律，打关键词并划分数据集；并建诗句索引。"""
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
        lines = lines or out.parent / "lines.sqlite"
        if not no_lines and (force or not lines.exists()):
            report = build_lines(lines, source=source, cache_dir=cache_dir.expanduser(),
                                 expected_sha1=sha1 or None, console=console)
            console.print(f"[green]{report.path}[/]: {report.lines:,} lines, {report.bytes / 2**20:.1f} MiB, "
                          f"built in {report.seconds:.0f} s")
    except PoetcoreInputError as exc:
        console.print(Text.assemble(("错误 / error ", "bold red"), f"[{exc.code}] {exc.message(_locale(ctx))}"))
        raise typer.Exit(code=1) from None


@data_app.command("lines")
def lines_command(
    ctx: typer.Context,
    source: Path | None = typer.Option(
        None, "--source", help="chinese-poetry-2.0.1.tgz or its package/ folder (default: npm pack into the cache)."
    ),
    out: Path | None = typer.Option(None, "--out", help="The index file to write (default: data/lines.sqlite; "
                                    "with --builtin, the package's own, poetcore/assets/lines/builtin-lines.sqlite.xz)."),
    cache_dir: Path = typer.Option(Path("~/.cache/poetcore"), "--cache-dir", help="Where npm pack puts the tarball."),
    builtin: bool = typer.Option(False, "--builtin", help="Only the most famous poems (the index shipped in the "
                                 "package, xz-compressed when --out ends in .xz)."),
    sha1: str = typer.Option(PACKAGE_SHA1, "--sha1", help="Expected sha1 of the tarball ('' skips the check)."),
) -> None:
    """建诗句索引（飞花令等游戏用来判句）/ build the line index the games judge answers with."""
    console = Console(stderr=True, soft_wrap=True)
    try:
        out = out or (builtin_index_path() if builtin else Path("data/lines.sqlite"))
        report = build_lines(out, source=source, cache_dir=cache_dir.expanduser(), expected_sha1=sha1 or None,
                             builtin_only=builtin, console=console)
    except PoetcoreInputError as exc:
        console.print(Text.assemble(("错误 / error ", "bold red"), f"[{exc.code}] {exc.message(_locale(ctx))}"))
        raise typer.Exit(code=1) from None
    console.print(f"[green]{report.path}[/]: {report.lines:,} lines from {report.poems:,} poems, "
                  f"{report.grams:,} postings, {report.bytes / 2**20:.1f} MiB, built in {report.seconds:.0f} s")


@data_app.command("tables")
def tables_command(
    ctx: typer.Context,
    data: Path = typer.Option(Path("data/corpus"), "--data", help="A prepared corpus (poetcore data prepare)."),
    out: Path | None = typer.Option(None, "--out", help="Folder for rhyme_usage.json and seasons.json "
                                    "(default: where the package ships them)."),
    index: Path = typer.Option(Path("data/lines.sqlite"), "--index",
                               help="Line index (poetcore data lines) whose famous lines join the copy guard."),
) -> None:
    """由语料统计各表：各字在各平声韵部的押韵次数、各季节的用字、相邻字搭配、语料诗句（防抄）、词谱 / derive the
    corpus tables the decoder and /check use (rhyme usage, seasons, bigrams, corpus lines, 词谱)."""

    console = Console(stderr=True, soft_wrap=True)
    try:
        poems = [p for s in SPLITS for p in iter_poems(data, s)]
    except PoetcoreInputError as exc:
        console.print(Text.assemble(("错误 / error ", "bold red"), f"[{exc.code}] {exc.message(_locale(ctx))}"))
        raise typer.Exit(code=1) from None
    usage = RhymeUsage.derive(poems, RhymeTable.listed_only())
    usage_path = out / RHYME_USAGE_PATH.name if out else RHYME_USAGE_PATH
    seasons_path = out / SEASONS_PATH.name if out else SEASONS_PATH
    usage_path.parent.mkdir(parents=True, exist_ok=True)
    usage.save(usage_path)
    console.print(f"[green]{usage_path}[/]: {sum(usage.totals.values()):,} rhyme uses of {len(usage.totals):,} "
                  f"characters from {usage.meta['poems']:,} poems ({usage.meta['skipped']:,} skipped: no single 平声 group, "
                  f"{usage.meta['ze_poems']:,} of them counted in their one 仄声 group); "
                  f"{len(usage.unlisted_groups())} characters missing from the 平水韵 list get their corpus group")
    lexicon = SeasonLexicon.derive(p for p in poems if split_of_train(p))
    lexicon.save(seasons_path)
    bigrams = BigramTable.derive(line for p in poems if split_of_train(p) for line in p["lines"])
    bigrams_path = out / BIGRAMS_PATH.name if out else BIGRAMS_PATH
    bigrams.save(bigrams_path)
    console.print(f"[green]{bigrams_path}[/]: {len(bigrams.counts):,} character pairs seen at least {MIN_COUNT} times")
    famous: list[str] = []
    if index.exists():  # the 古体 and 蒙学 lines the prepared 近体 splits leave out (静夜思)
        line_index = LineIndex(index)
        famous = line_index.famous_lines(GUARD_MIN_FAME)
        line_index.close()
    guard = CorpusLines.build([line for p in poems for line in p["lines"]] + famous)
    guard_path = out / CORPUS_LINES_PATH.name if out else CORPUS_LINES_PATH
    guard.save(guard_path)
    console.print(f"[green]{guard_path}[/]: {len(guard):,} distinct 5- and 7-character corpus lines (hashed; "
                  f"{len(famous):,} famous lines from {index if famous else 'no line index'}) the decoder will not repeat")
    ci = [r for s in SPLITS for r in (iter_poems(data, CI_SPLIT_PREFIX + s)
                                      if (data / f"{CI_SPLIT_PREFIX}{s}.jsonl.gz").is_file() else ())]
    if ci:
        charts = derive_cipu(ci)
        cipu_path = out / CIPU_PATH.name if out else CIPU_PATH
        save_cipu(charts, cipu_path)
        console.print(f"[green]{cipu_path}[/]: 词谱 of {sum(c.reliable for c in charts)} of the {len(charts)} most "
                      f"common 词牌 ({len(ci):,} 词)")
    sizes = {s: sum(1 for t in lexicon.season_of.values() if t == s) for s in ("春", "夏", "秋", "冬")}
    console.print(f"[green]{seasons_path}[/]: season characters {sizes}")


def split_of_train(poem: dict) -> bool:
    """Lexicons that the decoder uses are learnt from the training split only."""

    return split_of(poem["id"]) == "train"
