"""`poetcore eval`: quality metrics anyone can rerun, and the 3-gram baseline.

Every metric is computed from generated text by our own checker and the corpus; nothing is
hard-coded. Topics are a fixed list (EVAL_TOPICS) so runs are comparable across models.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from rich.progress import Progress
from rich.table import Table

from poetcore.baseline import trigram_bpc
from poetcore.checker import check
from poetcore.data.corpus import iter_poems, load_split
from poetcore.request import ComposeRequest

EVAL_TOPICS: tuple[str, ...] = (
    "秋月", "春雨", "送别", "边塞", "思乡", "怀古", "梅花", "江南", "夜泊", "登高", "落日", "清明",
    "重阳", "渔舟", "山居", "寒江", "咏柳", "春风", "明月", "孤舟", "故人", "长安", "黄河", "雪夜",
)
"""Topics users ask for most: seasons, farewell, frontier, homesickness, history, objects, places."""
EVAL_FORMS: tuple[str, ...] = ("五绝", "七绝", "五律", "七律")
TONE_CODES = frozenset({"tone", "gu_ping", "san_ping_wei", "san_ze_wei", "shi_nian", "shi_dui"})


def distinct_n(texts: list[str], n: int) -> float:
    """Unique n-grams / all n-grams over the generated lines (n-grams do not cross lines)."""
    grams: Counter[str] = Counter()
    for t in texts:
        grams.update(t[i : i + n] for i in range(len(t) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def corpus_lines(data_dir: Path, split: str = "train") -> set[str]:
    return {line for p in iter_poems(data_dir, split) for line in p["lines"]}


def score_poems(poems: list[dict[str, Any]], train_lines: set[str] | None) -> dict[str, float]:
    """Metrics over composed poems; each item has form, lines, topic."""
    n = len(poems)
    fmt = tone = rhyme = 0
    cov_sum = cov_any = rep_sum = copied = total_lines = 0.0
    lines_all: list[str] = []
    for p in poems:
        report = None
        try:
            report = check("\n".join(p["lines"]), form=p["form"])
        except Exception:  # a shape error means the format itself is wrong
            report = None
        if report is not None:
            fmt += 1
            codes = {v.code for v in report.violations}
            tone += not (codes & TONE_CODES)
            rhyme += "rhyme" not in codes and report.rhyme_group is not None
        body = "".join(p["lines"])
        topic_chars = set(p["topic"])
        hit = sum(1 for ch in topic_chars if ch in body)
        cov_sum += hit / max(1, len(topic_chars))
        cov_any += hit > 0
        rep_sum += (len(body) - len(set(body))) / max(1, len(body))
        lines_all.extend(p["lines"])
        if train_lines is not None:
            copied += sum(1 for line in p["lines"] if line in train_lines)
        total_lines += len(p["lines"])
    return {
        "poems": n,
        "format_accuracy": fmt / n,
        "tone_accuracy": tone / n,
        "rhyme_accuracy": rhyme / n,
        "topic_coverage": cov_sum / n,
        "topic_any_char_rate": cov_any / n,
        "distinct_1": distinct_n(lines_all, 1),
        "distinct_2": distinct_n(lines_all, 2),
        "in_poem_repetition": rep_sum / n,
        "copy_rate": (copied / total_lines) if train_lines is not None else float("nan"),
    }


def run_eval(
    n: int = 200,
    candidates: int = 8,
    data_dir: Path = Path("data/corpus"),
    report: Path | None = Path("reports/eval.md"),
    seed: int = 0,
    model: Path | None = None,
    device: str | None = None,
    chunk: int = 8,
) -> dict[str, Any]:
    """Compose ``n`` poems over EVAL_TOPICS × EVAL_FORMS and score them."""
    from poetcore.compose import Composer  # heavy: torch

    composer = Composer.from_pretrained(model, device=device)
    jobs = [(EVAL_TOPICS[(i // len(EVAL_FORMS)) % len(EVAL_TOPICS)], EVAL_FORMS[i % len(EVAL_FORMS)]) for i in range(n)]
    poems: list[dict[str, Any]] = []
    failures = 0
    t0 = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task("eval", total=n)
        for start in range(0, n, chunk):
            reqs = [ComposeRequest(t, f, n=candidates, seed=seed + start + k) for k, (t, f) in enumerate(jobs[start : start + chunk])]
            for req, result in zip(reqs, composer.compose_batch(reqs), strict=True):
                if isinstance(result, Exception):
                    failures += 1
                    poems.append({"form": req.form, "lines": [], "topic": req.topic, "failed": True})
                else:
                    poems.append({**result.to_dict(), "topic": req.topic})
            progress.update(task, advance=len(reqs))
    elapsed = time.perf_counter() - t0
    have_corpus = (data_dir / "manifest.json").exists()
    train_lines = corpus_lines(data_dir) if have_corpus else None
    metrics = score_poems(poems, train_lines)
    metrics["failures"] = failures
    metrics["seconds_per_poem"] = elapsed / n
    metrics["candidates"] = candidates
    if have_corpus:
        from poetcore.train import encode_poems, evaluate_bpc  # heavy: torch

        valid = encode_poems(load_split(data_dir, "valid")[:3000], composer.tokenizer)
        metrics["valid_bpc"] = evaluate_bpc(composer.model, composer.tokenizer, valid)
    if report is not None:
        write_report(report, metrics, poems)
    return {"metrics": metrics, "poems": poems}


def metrics_table(metrics: dict[str, Any]) -> Table:
    table = Table("metric", "value", title="poetcore eval")
    for k, v in metrics.items():
        table.add_row(k, f"{v:.4f}" if isinstance(v, float) else str(v))
    return table


def write_report(path: Path, metrics: dict[str, Any], poems: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = ["# poetcore eval", "", "| metric | value |", "|---|---|"]
    out += [f"| {k} | {v:.4f} |" if isinstance(v, float) else f"| {k} | {v} |" for k, v in metrics.items()]
    out += ["", "## Samples (two per form)", ""]
    for form in EVAL_FORMS:
        for p in [p for p in poems if p["form"] == form and p.get("lines")][:2]:
            out.append(f"**《{p['topic']}》** {form} · {p.get('rhyme_group', '')}韵")
            out.append("")
            out += [line + ("，" if i % 2 == 0 else "。") + "  " for i, line in enumerate(p["lines"])]
            out.append("")
    out += ["", "```json", json.dumps(metrics, ensure_ascii=False, indent=2), "```", ""]
    path.write_text("\n".join(out), encoding="utf-8")


def baseline_report(data_dir: Path, model: Path | None = None, max_valid: int = 3000) -> dict[str, Any]:
    """3-gram vs model bpc on the same validation poems and tokens."""
    from transformers import AutoModelForCausalLM  # heavy: the model side stays lazy

    from poetcore.modeling import default_model_dir
    from poetcore.tokenizer import load_tokenizer
    from poetcore.train import encode_poems, evaluate_bpc

    path = Path(model or default_model_dir())
    tokenizer = load_tokenizer(path)
    train = encode_poems(load_split(data_dir, "train"), tokenizer)
    valid = encode_poems(load_split(data_dir, "valid")[:max_valid], tokenizer)
    tri = trigram_bpc(
        [e.body for e in train], [e.body for e in valid], len(tokenizer), valid_chars=sum(e.n_chars for e in valid)
    )
    lm = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    return {"trigram_valid_bpc": tri, "model_valid_bpc": evaluate_bpc(lm, tokenizer, valid), "valid_poems": len(valid)}
