"""Decoding settings side by side: the same topics, forms and seeds under each setting, one model load.

Usage::

    python benchmarks/decoding_study.py                          # the default grid, 30 topics x 七绝/五律 x 2 seeds
    python benchmarks/decoding_study.py --grid "base:;cool:temperature=0.6" --seeds 4 --out reports/decoding.json

A setting is ``name:key=value,key=value``; keys are fields of the model's ``generation_config.json``
(``temperature``, ``top_p``, ``topic_bias``, ``topic_margin``, ``coverage_weight``, ``line_fit_weight``,
``num_beams`` with ``do_sample=0`` for beam search or ``do_sample=1`` for beam sampling) plus ``n`` (the
number of candidates) and ``critic_weight`` (with ``--critic DIR``: rerank by that critic). Each setting's
metrics come from `poetcore.eval.evaluate.score_poems` against the prepared corpus (copy rate, topic
artifacts, rhyme readings) plus the chosen poems' mean LM log-probability, their distinct characters and
repeated 4-gram share (`poetcore.eval.diversity`), the critic's mean log-odds "real" when a critic is
given, and the seconds per poem. Issue 23's sweep::

    python benchmarks/decoding_study.py --forms 七绝 --critic runs/critic-2 --grid \
      "beams:;beams-c:critic_weight=0.5;t0.7:num_beams=1,temperature=0.7,n=24;t0.6-c:num_beams=1,temperature=0.6,n=24,critic_weight=0.3" Settings run interleaved chunk by chunk, so machine
noise hits them alike.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from poetcore.compose import Composer
from poetcore.eval.diversity import distinct_characters, repeated_ngram_share
from poetcore.eval.evaluate import corpus_bigrams, corpus_lines, score_poems
from poetcore.eval.sheet import load_topics
from poetcore.model.critic import PoemCritic
from poetcore.request import ComposeRequest

DEFAULT_GRID = (
    "shipped:;"
    "nomargin:topic_margin=1000;"
    "margin2:topic_margin=2;"
    "t0.6:temperature=0.6;"
    "t0.6-n16:temperature=0.6,n=16;"
    "p0.9:top_p=0.9;"
    "bias1.5:topic_bias=1.5"
)
SHOWN = ("lm_logprob", "critic_logit", "distinct_characters", "repeated_4gram_share", "distinct_2", "copy_rate", "topic_coverage", "season_clash_share", "unlicensed_dieci",
         "topic_artifact_poems", "topic_isolated_share",
         "other_isolated_share", "rhyme_dominant_reading_share", "seconds_per_poem")


_INTS = frozenset(("num_beams", "top_k", "n"))
_BOOLS = frozenset(("do_sample",))


def _value(key: str, text: str) -> float | int | bool:
    if key in _BOOLS:
        return text.lower() in ("1", "true", "yes")
    return int(text) if key in _INTS else float(text)


def parse_grid(text: str) -> dict[str, dict[str, float | int | bool]]:
    grid: dict[str, dict[str, float | int | bool]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, _, body = part.partition(":")
        grid[name] = {k: _value(k, v) for k, v in (kv.split("=") for kv in filter(None, body.split(",")))}
    return grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--grid", default=DEFAULT_GRID)
    parser.add_argument("--forms", default="七绝,五律")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("data/corpus"))
    parser.add_argument("--out", type=Path, default=None, help="Write metrics and poems as JSON here.")
    parser.add_argument("--chunk", type=int, default=8, help="Requests per generate call.")
    parser.add_argument("--critic", type=Path, default=None, help="A critic (poetcore tune critic): reranks "
                        "settings with critic_weight, and scores every setting's poems.")
    args = parser.parse_args()
    console = Console(stderr=True)

    grid = parse_grid(args.grid)
    composer = Composer.from_pretrained(args.model)
    if args.critic is not None:
        composer.critic = PoemCritic.from_pretrained(args.critic)
    base = copy.deepcopy(composer.generation_config)
    topics = load_topics()
    jobs = [(t, f, 1000 * s + i) for s in range(args.seeds) for i, (t, f) in
            enumerate((t, f) for t in topics for f in args.forms.split(","))]
    console.print(f"{len(jobs)} poems per setting, {len(grid)} settings; loading the corpus yardsticks")
    train_lines, bigrams = corpus_lines(args.data), corpus_bigrams(args.data)

    poems: dict[str, list[dict[str, Any]]] = {name: [] for name in grid}
    seconds: dict[str, float] = dict.fromkeys(grid, 0.0)
    for start in range(0, len(jobs), args.chunk):
        for name, setting in grid.items():
            config = copy.deepcopy(base)
            config.update(**{k: v for k, v in setting.items() if k != "n"})
            composer.generation_config = config
            n = int(setting.get("n", 8))
            reqs = [ComposeRequest(t, f, n=n, seed=seed) for t, f, seed in jobs[start : start + args.chunk]]
            t0 = time.perf_counter()
            results = composer.compose_batch(reqs)
            seconds[name] += time.perf_counter() - t0
            for req, poem in zip(reqs, results, strict=True):
                if isinstance(poem, Exception):
                    poems[name].append({"form": req.form, "lines": [], "topic": req.topic, "failed": True})
                else:
                    poems[name].append({**poem.to_dict(), "topic": req.topic})
        console.print(f"  {min(start + args.chunk, len(jobs))}/{len(jobs)}")

    report: dict[str, Any] = {"jobs": len(jobs), "forms": args.forms, "settings": {}}
    table = Table("metric", *grid, title=f"decoding study ({len(jobs)} poems per setting)")
    for name, setting in grid.items():
        ok = [p for p in poems[name] if p.get("lines")]
        metrics = score_poems(ok, train_lines, bigrams)
        metrics["lm_logprob"] = statistics.fmean(p["lm_logprob"] for p in ok) if ok else float("nan")
        metrics["failures"] = len(poems[name]) - len(ok)
        metrics["distinct_characters"] = distinct_characters(ok)
        metrics["repeated_4gram_share"] = repeated_ngram_share(ok)
        metrics["critic_logit"] = (statistics.fmean(composer.critic.logits([(p["form"], p["lines"]) for p in ok]))
                                   if composer.critic is not None and ok else float("nan"))
        metrics["seconds_per_poem"] = seconds[name] / len(jobs)
        report["settings"][name] = {"setting": setting, "metrics": metrics, "poems": poems[name]}
    for key in SHOWN:
        values = [report["settings"][name]["metrics"][key] for name in grid]
        table.add_row(key, *(f"{v:.4f}" if isinstance(v, float) else str(v) for v in values))
    Console().print(table)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
