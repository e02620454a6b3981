"""`poetcore` command line: check, data, train, baseline, compose, eval, bench.

The root callback builds the engine's settings once (`poetcore.settings.load_engine_settings`), so an
unknown ``POETCORE_*`` variable fails every command with exit 2. Heavy imports (torch,
transformers, the composer) happen inside the commands so `poetcore check` stays instant.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from poetcore.cli.check import check_command
from poetcore.cli.data import data_app
from poetcore.cli.tune import tune_app
from poetcore.errors import ModelLoadError, PoetcoreInputError
from poetcore.eval.diversity import run_diversity
from poetcore.eval.evaluate import baseline_report, metrics_table, run_eval
from poetcore.eval.sheet import DEFAULT_TOPICS, SHEET_FORMS, Side, load_topics, markdown_table, write_sheet
from poetcore.eval.sheet import score_sheet as score
from poetcore.lexicon.rhyme_lookup import group_chars, lookup_char
from poetcore.lines.index import open_line_index
from poetcore.prosody.cipu import CiChart, ci_form, find_cipai, load_cipu, nearest_cipai, shape_name
from poetcore.prosody.forms import get_form, rhyme_labels
from poetcore.prosody.standard_cipu import (
    compare,
    compare_all,
    describe,
    flag,
    load_standard_cipu,
    matching_shape,
)
from poetcore.request import REPEAT_POLICIES, ComposeRequest, validate_heads, validate_prefix, validate_topic
from poetcore.settings import EngineSettings, UnknownSettingError, load_engine_settings
from poetcore.text.chars import is_han, poem_sentences

app = typer.Typer(
    name="poetcore",
    help="Classical Chinese regulated verse: check 格律, prepare data, train, compose, evaluate, benchmark.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main_callback(ctx: typer.Context) -> None:
    """Classical Chinese regulated verse: check 格律, prepare data, train, compose, evaluate, benchmark."""
    try:
        ctx.obj = load_engine_settings()
    except (UnknownSettingError, ValueError, FileNotFoundError) as exc:
        Console(stderr=True, soft_wrap=True).print(f"[red]错误 / error:[/red] {exc}")
        raise typer.Exit(2) from None


def _engine(ctx: typer.Context) -> EngineSettings:
    settings = ctx.find_root().obj
    assert isinstance(settings, EngineSettings), "main_callback builds the settings before any command runs"
    return settings


def _model(ctx: typer.Context, model: Path | None) -> Path | None:
    """--model, else POETCORE_MODEL, else None (the shipped model)."""
    return model or _engine(ctx).model


def _device(ctx: typer.Context, device: str | None) -> str | None:
    """--device, else POETCORE_DEVICE unless it is auto."""
    configured = _engine(ctx).device
    return device or (None if configured == "auto" else configured)


app.command("check")(check_command)
app.add_typer(data_app, name="data")
app.add_typer(tune_app, name="tune")
console = Console()
err = Console(stderr=True, soft_wrap=True)  # long paths and messages stay on one line

ModelOpt = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory (default: $POETCORE_MODEL, else the shipped model)."),
]
DeviceOpt = Annotated[str | None, typer.Option(help="cpu, cuda or cuda:N (default: cuda when available).")]


def _logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]错误 / error:[/red] {message}")
    return typer.Exit(code)


@app.command("train")
def train_command(
    config: Annotated[str, typer.Option("--config", "-c", help="Named config: cpu-small, cpu-medium, gpu-base or tiny.")] = "cpu-small",
    data_dir: Annotated[Path, typer.Option("--data", help="Prepared corpus (poetcore data prepare).")] = Path("data/corpus"),
    out: Annotated[Path, typer.Option("--out", help="Run directory (checkpoints, metrics.jsonl, final/).")] = Path(
        "runs/cpu-small"
    ),
    init_from: Annotated[
        Path | None, typer.Option("--init-from", help="Fine-tune an HF causal LM saved on disk (its own tokenizer).")
    ] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from out/checkpoint.")] = False,
    device: DeviceOpt = None,
    max_steps: Annotated[int | None, typer.Option(help="Override the config's step count.")] = None,
    max_minutes: Annotated[float | None, typer.Option(help="Stop after this many minutes.")] = None,
    max_train: Annotated[int | None, typer.Option(help="Use only the first N training poems.")] = None,
    seed: int = 0,
    lr: Annotated[float | None, typer.Option(help="Override the config's peak learning rate.")] = None,
    precision: Annotated[
        str, typer.Option(help="auto (bf16 autocast on CUDA and CPUs with native bf16), bf16 or fp32.")
    ] = "auto",
    ci: Annotated[bool, typer.Option("--ci/--no-ci", help="Train on the prepared 宋词 too, under 词牌 form tokens.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train the poem LM (or fine-tune another HF causal LM with --init-from)."""
    _logging(verbose)
    # torch: `poetcore check`, `rhyme`, `yun` and `data` never load it
    from poetcore.model.modeling import get_preset
    from poetcore.model.train import train  # torch, as above

    try:
        preset = get_preset(config)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if precision not in ("auto", "bf16", "fp32"):
        raise _fail(f"--precision {precision!r}: choose auto, bf16 or fp32.")
    if not (data_dir / "manifest.json").exists():
        raise _fail(f"no prepared corpus in {data_dir}; run `poetcore data prepare` first (or pass --data).")
    if init_from is not None and not (init_from / "config.json").exists():
        raise _fail(f"--init-from {init_from}: no config.json there; pass a directory saved with save_pretrained.")
    summary = train(
        data_dir, out, preset, init_from=init_from, resume=resume, device=device, max_steps=max_steps,
        max_minutes=max_minutes, max_train=max_train, seed=seed, lr=lr, precision=precision, ci=ci,
    )
    console.print_json(json.dumps(summary, ensure_ascii=False))
    console.print(f"best model: {out / 'final'}")


@app.command("baseline")
def baseline_command(
    ctx: typer.Context,
    data_dir: Annotated[Path, typer.Option("--data")] = Path("data/corpus"),
    model: ModelOpt = None,
    max_valid: int = 3000,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the numbers to this JSON file.")] = None,
) -> None:
    """Validation bpc of a character 3-gram (same split, same tokens as the model's bpc)."""

    if not (data_dir / "manifest.json").exists():
        raise _fail(f"no prepared corpus in {data_dir}; run `poetcore data prepare` first.")
    report = baseline_report(data_dir, _model(ctx, model), max_valid=max_valid)
    if out is not None:
        out.write_text(json.dumps(report, indent=2))
    console.print_json(json.dumps(report))


@app.command("ship")
def ship_command(
    run: Annotated[Path, typer.Argument(help="Training run directory (with final/ and summary.json).")],
    data_dir: Annotated[Path, typer.Option("--data")] = Path("data/corpus"),
    dest: Annotated[Path | None, typer.Option(help="Target directory (default: the package's shipped model).")] = None,
    skip_baseline: Annotated[bool, typer.Option("--skip-baseline", help="Do not compute the 3-gram bpc.")] = False,
) -> None:
    """Copy a trained model into the package with a model card (data, config, time, bpc vs 3-gram)."""
    from poetcore.model.card import ship_model  # torch, as above

    if not (run / "final" / "config.json").exists():
        raise _fail(f"{run}/final has no model; train first with `poetcore train --out {run}`.")
    baseline = None
    cached = run / "baseline.json"  # written by `poetcore baseline --out`; the 3-gram takes minutes
    if not skip_baseline and cached.exists():
        baseline = json.loads(cached.read_text())
    elif not skip_baseline:
        if not (data_dir / "manifest.json").exists():
            raise _fail(f"no prepared corpus in {data_dir} for the baseline; pass --data or --skip-baseline.")
        baseline = baseline_report(data_dir, run / "final")
    try:
        target = ship_model(run, dest, baseline=baseline, corpus_manifest=data_dir / "manifest.json")
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    console.print(f"shipped {run / 'final'} -> {target}")
    if baseline:
        console.print_json(json.dumps(baseline))


def _is_form(word: str) -> bool:
    try:
        get_form(word)
    except Exception:
        return False
    return True


@app.command("compose")
def compose_command(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="Topic, e.g. 秋月 (or the head characters with --acrostic).")],
    form: Annotated[str, typer.Argument(help="五绝, 七绝, 五律, 七律, 五绝仄韵/七绝仄韵, or a 词牌 (浣溪沙, 忆江南; "
                                                 "`poetcore cipai` lists them).")] = "七绝",
    prefix: Annotated[str | None, typer.Option(
        "--prefix", help="续写: keep these leading line(s) verbatim and write the rest, e.g. 白日依山尽.")] = None,
    heads: Annotated[str | None, typer.Option("--heads", help="Head character of each line (藏头诗).")] = None,
    acrostic: Annotated[bool, typer.Option("--acrostic", help="Use the topic's characters as line heads.")] = False,
    rhyme: Annotated[str | None, typer.Option("--rhyme", help="平水韵 group (东, 一东), a character (鸟: a 仄声 one "
                                              "makes a 仄韵 绝句), or for a 词 its 词林正韵 部 (7, 第七部) or a character.")] = None,
    n: Annotated[int, typer.Option("-n", help="Candidates sampled and reranked.")] = 8,
    seed: Annotated[int | None, typer.Option(help="Random seed for reproducible output.")] = None,
    count: Annotated[int, typer.Option("--count", help="How many poems to print.")] = 1,
    repeat: Annotated[str, typer.Option(help="Character repeats: none, dieci (叠字 the corpus writes, e.g. 青青 萧萧; default) or any.")] = "dieci",
    traditional: Annotated[bool, typer.Option("--traditional", help="Print traditional characters.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per poem.")] = False,
    model: ModelOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Compose poems with guaranteed 格律 (line shape, 平仄, 平水韵 rhyme), or a 词 from its 词牌's chart."""
    from poetcore.compose import Composer  # torch: `poetcore check`, `rhyme`, `yun` and `data` never load it

    if repeat not in REPEAT_POLICIES:
        raise _fail(f"--repeat must be none, dieci or any, not {repeat!r}.")
    if acrostic and heads:
        raise _fail("use either --acrostic (heads from the topic) or --heads, not both.")
    if count < 1:
        raise _fail("--count must be at least 1.")
    if prefix and (heads or acrostic):
        raise _fail("use either --prefix (续写) or heads (藏头), not both.")
    try:
        if prefix and form == "七绝" and _is_form(topic):
            topic, form = "", topic  # `poetcore compose 五绝 --prefix 白日依山尽`: the word is the form
        # Cheap checks first, so a typo is answered before the model loads.
        tmpl = get_form(form)
        if tmpl.is_ci and prefix:
            raise _fail("续写只写诗，不续词。 / --prefix continues 诗, not 词.")
        head_text = validate_heads(topic if acrostic else heads, tmpl)
        given = validate_prefix(prefix, tmpl)
        validate_topic(topic, required=not head_text and not given and not tmpl.is_ci)
        composer = Composer.from_pretrained(_model(ctx, model), device=_device(ctx, device))
    except PoetcoreInputError as exc:
        raise _fail(exc.message_zh + " / " + exc.message_en) from None
    except ModelLoadError as exc:
        raise _fail(str(exc)) from None
    for i in range(count):
        try:
            [poem] = composer.compose_batch([ComposeRequest(
                topic, form=form, heads=topic if acrostic else heads, rhyme=rhyme, n=n,
                seed=None if seed is None else seed + i, repeat=repeat, traditional=traditional,  # type: ignore[arg-type]
                prefix=given or None,
            )])
            if isinstance(poem, PoetcoreInputError):
                raise poem
        except PoetcoreInputError as exc:
            raise _fail(exc.message_zh + " / " + exc.message_en) from None
        if given:
            for v in poem.prefix_faults(len(given)):  # the user's own lines break the chart: say where, in the checker's words
                Console(stderr=True).print(f"[yellow]注意 / note:[/] {v.message} / {v.message_en}", highlight=False)
        if as_json:
            sys.stdout.write(json.dumps(poem.to_dict(), ensure_ascii=False) + "\n")
        else:
            title = f"{poem.form}·{poem.title}" if poem.kind == "词" else poem.title
            console.print(f"[bold]《{title}》[/bold]  [dim]{poem.form} · {poem.rhyme_group}韵[/dim]")
            rows = poem_sentences(poem.lines, poem.punctuation) if poem.kind == "词" else [
                line + mark for line, mark in zip(poem.lines, poem.punctuation, strict=True)]
            for row in rows:
                console.print(row)
            if i + 1 < count:
                console.print()


@app.command("eval")
def eval_command(
    ctx: typer.Context,
    n: Annotated[int, typer.Option("--n", help="Poems to generate, spread over topics and the four forms.")] = 200,
    candidates: Annotated[int | None, typer.Option("--candidates", help="Candidates per poem [default: the model's "
                                                   "own, from its generation_config.json].")] = None,
    data_dir: Annotated[
        Path, typer.Option("--data", help="Prepared corpus: copy rate, bpc, the real poems of sheets.")
    ] = Path("data/corpus"),
    report: Annotated[Path, typer.Option("--report", help="Markdown report path.")] = Path("reports/eval.md"),
    as_json: Annotated[bool, typer.Option("--json")] = False,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Default 0; with --sheet drawn fresh (and kept in key.json).")
    ] = None,
    model: ModelOpt = None,
    device: DeviceOpt = None,
    sheet: Annotated[
        Path | None, typer.Option("--sheet", help="Write a blind-reading sheet with real controls (sheet.md) and "
                                  "its key (key.json) here.")
    ] = None,
    against: Annotated[
        Path | None, typer.Option("--against", help="With --sheet: a second machine side, this model.")
    ] = None,
    against_code: Annotated[
        Path | None, typer.Option("--against-code", help="With --sheet: a second machine side composed by the "
                                  "poetcore in this checkout (e.g. a git worktree of an earlier revision), with "
                                  "--against or that checkout's shipped model.")
    ] = None,
    topics: Annotated[
        Path | None, typer.Option("--topics", help="With --sheet or --diversity: topics file "
                                  "[default: docs/blind-reading/topics.txt].")
    ] = None,
    forms: Annotated[
        str | None, typer.Option("--forms", help="With --sheet: forms, comma-separated: 诗 forms and 词牌 (浣溪沙, "
                                 "忆江南), mixed as you like [default: 七绝,五律].")
    ] = None,
    controls: Annotated[
        int | None, typer.Option("--controls", help="With --sheet: real poems [default: as many as all machine poems].")
    ] = None,
    score_sheet: Annotated[
        Path | None, typer.Option("--score-sheet", help="Score the answers-*.json readers left next to key.json.")
    ] = None,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="With --score-sheet: print the table for notes instead of JSON.")
    ] = False,
    diversity: Annotated[
        bool, typer.Option("--diversity", help="Diversity: 30 topics x 10 seeds of 七绝, repeated requests, real "
                           "七绝 as the yardstick.")
    ] = False,
) -> None:
    """Quality eval: format/tone/rhyme accuracy, topic coverage, distinct-n, copy rate, bpc; blind sheets
    with real controls; diversity."""

    if score_sheet is not None:
        try:
            result = score(score_sheet, data_dir)
        except (FileNotFoundError, ValueError) as exc:
            raise _fail(str(exc)) from None
        sys.stdout.write(markdown_table(result) if markdown else json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    if sheet is not None:
        model_a = _model(ctx, model)
        if against is not None and model_a == against and against_code is None:
            raise _fail("--sheet compares two systems: --model and --against name the same directory.")
        if against_code is not None and not (against_code / "poetcore" / "compose.py").is_file():
            raise _fail(f"--against-code {against_code}: no poetcore checkout there (poetcore/compose.py missing).")
        sides = [Side("a", model_a)]
        if against is not None or against_code is not None:
            sides.append(Side("b", against, against_code))
        sheet_forms = [f.strip() for f in (forms or ",".join(SHEET_FORMS)).replace("，", ",").split(",") if f.strip()]
        try:
            key = write_sheet(sides, sheet, data_dir=data_dir, topics=load_topics(topics or DEFAULT_TOPICS),
                              forms=sheet_forms, controls=controls, seed=seed, candidates=candidates,
                              device=_device(ctx, device))
        except (FileNotFoundError, ValueError) as exc:
            raise _fail(str(exc)) from None
        real = sum(1 for i in key["items"] if i["side"] == "real")
        console.print(f"{len(key['items'])} poems ({len(key['items']) - real} machine, {real} real), seed {key['seed']}: "
                      f"give readers {sheet / 'sheet.md'} only; the key is {sheet / 'key.json'}")
        return
    if diversity:
        found = run_diversity(load_topics(topics or DEFAULT_TOPICS), model=_model(ctx, model),
                              device=_device(ctx, device), seed=seed or 0, candidates=candidates, data_dir=data_dir)
        if as_json:
            sys.stdout.write(json.dumps(found, ensure_ascii=False, indent=2) + "\n")
        else:
            console.print(metrics_table(found))
        return
    if n < 1:
        raise _fail("--n must be at least 1.")
    result = run_eval(n=n, candidates=candidates, data_dir=data_dir, report=report, seed=seed or 0,
                      model=_model(ctx, model), device=_device(ctx, device))
    if as_json:
        sys.stdout.write(json.dumps(result["metrics"], ensure_ascii=False, indent=2) + "\n")
    else:

        console.print(metrics_table(result["metrics"]))
        console.print(f"report: {report}")


@app.command("rhyme")
def rhyme_command(
    char: Annotated[str, typer.Argument(help="一个汉字，如 行。")],
    lines: Annotated[Path | None, typer.Option("--lines", help="Line index for famous lines [default: data/lines.sqlite, "
                                               "else the built-in one].")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """查韵：一个字的声调、平水韵韵部（多音字各读）、词林正韵部、押此字的名句。"""

    char = char.strip()
    if len(char) != 1 or not is_han(char):
        raise _fail(f"查韵只查一个汉字，如 `poetcore rhyme 行`；收到的是 {char!r}。")
    default = Path("data/lines.sqlite")
    found = lookup_char(char, open_line_index(lines or (default if default.exists() else None)))
    if as_json:
        sys.stdout.write(json.dumps(found.to_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    folded = f"（按“{found.looked_up}”查）" if found.looked_up != found.char else ""
    console.print(f"“{found.char}”{folded}：" + {"平": "平声", "仄": "仄声", "平仄": "平仄两读"}.get(found.tones, "?"))
    for r in found.readings:
        tone = r.tone if r.tone == "平" else f"仄·{r.four_tone}"
        console.print(f"  平水韵{r.label}韵（{tone}） · 词林正韵{r.bu} · 诗中押此韵 {r.uses} 次")
    if not found.readings:
        console.print("  平水韵表中无此字")
    for record in found.lines:
        console.print(f"  「{record.text}」——{record.source}")


@app.command("yun")
def yun_command(
    group: Annotated[str, typer.Argument(help="韵目，如 东、一先、上平一东。")],
    limit: Annotated[int, typer.Option(help="How many characters.")] = 40,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """韵部：一个平水韵韵部的字，按诗中押韵次数排列。"""

    found = group_chars(group.strip(), limit=limit)
    if found is None:
        raise _fail(f"没有名为“{group}”的韵部；请写韵目，如 `poetcore yun 东`、`poetcore yun 一先`。")
    gid, chars = found
    if as_json:
        sys.stdout.write(json.dumps({"group": gid, "chars": [{"char": c, "uses": n} for c, n in chars]},
                                    ensure_ascii=False) + "\n")
        return
    console.print(f"{gid}：" + " ".join(f"{c}{n}" if n else c for c, n in chars))


@app.command("cipai")
def cipai_command(
    name: Annotated[str | None, typer.Argument(help="词牌，如 浣溪沙；省略时列出全部。")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """词谱：由宋词语料统计的词牌句式、每字平仄（平/仄/中，附一致率）与韵位。"""


    charts = load_cipu()
    if name is None:
        standard = compare_all(charts)
        for c in charts.values():
            shape = c.shapes[0] if c.shapes else None
            console.print(f"{c.cipai}\t{c.poems} 首\t" + (f"{len(c.shapes)} 体，正体 {shape.poems} 首，定声 "
                                                         f"{shape.decided_share:.0%}" if shape else "首数不足，不出谱")
                          + (f"\t《唐宋词格律》{flag(standard[c.cipai])}" if c.cipai in standard else ""),
                          soft_wrap=True)
        return
    found = find_cipai(name, charts)
    chart = found[0] if found else charts.get(name.strip())  # an alias (忆江南), or an uncharted 词牌's count
    if chart is None:
        near = nearest_cipai(name, charts)
        raise _fail(f"没有“{name}”的词谱：只统计了语料中最常见的 {len(charts)} 个词牌（`poetcore cipai` 列出）。"
                    + (f"相近的有：{'、'.join(near)}。" if near else ""))
    if as_json:
        sys.stdout.write(json.dumps(asdict(chart), ensure_ascii=False, indent=1) + "\n")
        return
    if not chart.reliable:
        console.print(f"{chart.cipai}：语料中只有 {chart.poems} 首，且无一体够 8 首，不足以出谱。")
        return
    for k, shape in enumerate(chart.shapes):
        variant = ci_form(chart, k).variants[0]
        labels = rhyme_labels(variant)
        tones = "、".join(f"{s.tone}韵" for s in variant.rhyme_groups)
        console.print(f"{chart.cipai} {shape_name(k)}：{shape.poems} 首（共 {chart.poems} 首），{sum(shape.lengths)} 字，"
                      f"{tones}，定声 {shape.decided_share:.0%}")
        for si, (seg, mark) in enumerate(zip(variant.lines, variant.punctuation, strict=True)):
            rhyme = f"（{labels[si]}）" if si in labels else ""
            echo = next((f"（叠句：重第{src + 1}句末{len(seg)}字）" for line, src in variant.echoes if line == si), "")
            ratios = " ".join(f"{r:.2f}" for r in shape.agreement[si])
            console.print(f"  {seg}{mark}{rhyme}{echo}   [dim]{ratios}[/]")
    _print_standard(chart)


def _print_standard(chart: CiChart) -> None:
    """The 与《唐宋词格律》对照 section of `poetcore cipai NAME`, for the 词牌 transcribed from the book."""
    standard = load_standard_cipu().get(chart.cipai)
    if standard is None:
        return
    cmp = compare(chart.shapes[0], standard)
    console.print(f"与《唐宋词格律》对照（正体 对 书中{standard.ge}，核对用例：{standard.checked_with}）：")
    for line in describe(cmp, standard):
        console.print(f"  {line}", markup=False, soft_wrap=True)
    if (k := matching_shape(chart, standard)) is not None:
        console.print(f"  语料{shape_name(k)}与书全合")
    if standard.uncertain != "无。":
        console.print(f"  [dim]转录存疑（作中）：{standard.uncertain}[/]")


@app.command("bench")
def bench_command(
    ctx: typer.Context,
    repeats: Annotated[int, typer.Option(help="Timed runs per latency setting.")] = 20,
    device: DeviceOpt = None,
    model: ModelOpt = None,
    batches: Annotated[str, typer.Option(help="Comma-separated batch sizes for throughput.")] = "1,16,64",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Latency p50/p95 and throughput of composing 七绝 on this machine."""
    from poetcore.eval.bench import bench_table, run_bench  # torch, as above

    try:
        sizes = [int(x) for x in batches.split(",") if x.strip()]
    except ValueError:
        raise _fail(f"--batches must be integers separated by commas, e.g. 1,16,64; got {batches!r}.") from None
    result = run_bench(repeats=repeats, device=_device(ctx, device), model=_model(ctx, model), batch_sizes=sizes)
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        console.print(bench_table(result))


if __name__ == "__main__":  # pragma: no cover
    app()
