"""One 词 per charted 词牌, unselected: the shipped model, fixed seeds, judged by our own checker.

Usage::

    python benchmarks/ci_samples.py                      # markdown to stdout
    python benchmarks/ci_samples.py --out docs/ci-samples.md --json reports/ci-samples.json

The k-th charted 词牌 (most written first) gets topic ``TOPICS[k % 10]`` and seed ``1000 + k``; nothing
is picked or rerolled, so the file is what a user would have got. Each 词 is checked against its
chart (`Poem.check`: `check_ci` under its 词牌), and the seconds it took are printed beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from poetcore.compose import Composer
from poetcore.prosody.cipu import ci_form, load_cipu
from poetcore.text.chars import poem_sentences

TOPICS = ("秋思", "春晚", "送别", "怀古", "夜雨", "归舟", "登楼", "梅花", "中秋", "江村")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="markdown file (default: stdout)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    composer = Composer.from_pretrained(args.model)
    rows = []
    charts = [chart for chart in load_cipu().values() if chart.shapes]
    for k, chart in enumerate(charts):
        form = ci_form(chart)
        started = time.perf_counter()
        poem = composer.compose(TOPICS[k % len(TOPICS)], form.name, seed=1000 + k)
        seconds = time.perf_counter() - started
        report = poem.check()
        rows.append({"cipai": form.name, "topic": poem.topic, "seed": 1000 + k, "chars": sum(form.line_lengths),
                     "rhyme": poem.rhyme_group, "ok": report.ok, "violations": len(report.violations),
                     "tolerated": len(report.tolerated), "seconds": round(seconds, 2),
                     "sentences": poem_sentences(poem.lines, poem.punctuation)})
    seconds = [r["seconds"] for r in rows]
    out = [f"# One 词 per charted 词牌 ({len(rows)}), unselected", "",
           f"Shipped model, `python benchmarks/ci_samples.py`, seed 1000+k, {args.threads} thread(s). "
           f"Pass our own chart check: {sum(r['ok'] for r in rows)}/{len(rows)} "
           f"(犯律 {sum(r['violations'] for r in rows)}, 拗 {sum(r['tolerated'] for r in rows)}); "
           f"seconds per 词 p50 {statistics.median(seconds):.2f}, max {max(seconds):.2f}.", ""]
    for r in rows:
        out += [f"## {r['cipai']}·{r['topic']} ({r['chars']} 字, {r['rhyme']}, {'合谱' if r['ok'] else '犯律'}, "
                f"{r['seconds']} s)", "", *[s + "  " for s in r["sentences"]], ""]
    text = "\n".join(out)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
