"""`poetcore eval`: quality metrics anyone can rerun, and the 3-gram baseline.

Every metric is computed from generated text by our own checker and the corpus; nothing is
hard-coded. Topics are a fixed list (EVAL_TOPICS) so runs are comparable across models.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

from rich.progress import Progress
from rich.table import Table

from poetcore.data.corpus import iter_poems, load_split
from poetcore.eval.baseline import trigram_bpc
from poetcore.lexicon.bigrams import BigramTable
from poetcore.lexicon.rhyme_usage import RhymeUsage
from poetcore.lexicon.seasons import SeasonLexicon
from poetcore.prosody.checker import check
from poetcore.prosody.rhymes import RhymeTable
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


def corpus_bigrams(data_dir: Path, split: str = "train") -> Counter[str]:
    """Adjacent character pairs inside the lines of a corpus split (the yardstick for odd pairs)."""
    counts: Counter[str] = Counter()
    for p in iter_poems(data_dir, split):
        for line in p["lines"]:
            counts.update(line[i : i + 2] for i in range(len(line) - 1))
    return counts


def isolated(line: str, i: int, bigrams: Counter[str]) -> bool:
    """Whether ``line[i]`` forms no attested pair with either neighbour: it belongs to no word."""
    pairs = [line[j : j + 2] for j in (i - 1, i) if j >= 0 and j + 2 <= len(line)]
    return bool(pairs) and all(bigrams[p] == 0 for p in pairs)


def topic_artifacts(lines: list[str], topic: str, bigrams: Counter[str] | None) -> list[str]:
    """Topic characters in a doubled spot (故故人, 西西 where the topic has no 叠字) or isolated
    (no attested pair with either neighbour, e.g. a topic character forced into the middle of a word)."""
    found: list[str] = []
    chars = set(topic)
    for line in lines:
        for i, ch in enumerate(line):
            if ch not in chars:
                continue
            if i + 1 < len(line) and line[i + 1] == ch and ch * 2 not in topic:
                found.append(f"doubled {ch * 2} in {line}")
            elif bigrams is not None and isolated(line, i, bigrams) and not (i > 0 and line[i - 1] == ch):
                found.append(f"isolated {ch} in {line}")
    return found


def isolated_share(lines: list[str], bigrams: Counter[str], skip: str = "") -> tuple[int, int]:
    """(isolated characters, characters) outside ``skip``: the base rate topic artifacts compare to."""
    hits = total = 0
    for line in lines:
        for i, ch in enumerate(line):
            if ch in skip:
                continue
            total += 1
            hits += isolated(line, i, bigrams)
    return hits, total


def rhyme_readings(lines: list[str], table: Any, usage: Any) -> tuple[int, int, int]:
    """(rhyme characters in their dominant reading, in a common reading, rhyme characters) of one poem.

    The poem's group is the 平声 group its even lines share (the one the corpus uses most for them
    when several are shared); the first line counts when it rhymes in that group too.
    """
    rhymes = [line[-1] for line in lines[1::2]]
    shared = frozenset.intersection(*(table.ping_groups(ch) for ch in rhymes)) if rhymes else frozenset()
    if not shared:
        return 0, 0, len(rhymes)
    gid = max(sorted(shared), key=lambda g: sum(usage.uses(ch, g) for ch in rhymes))
    if lines[0] and gid in table.ping_groups(lines[0][-1]):
        rhymes.append(lines[0][-1])
    dominant = sum(usage.dominant(ch) == gid for ch in rhymes)
    common = sum(usage.common(ch, gid) for ch in rhymes)
    return dominant, common, len(rhymes)


def score_poems(
    poems: list[dict[str, Any]], train_lines: set[str] | None, bigrams: Counter[str] | None = None
) -> dict[str, float]:
    """Metrics over composed poems; each item has form, lines, topic."""

    table, usage, seasons = RhymeTable.default(), RhymeUsage.default(), SeasonLexicon.default()
    licensed = BigramTable.default().reduplicated()
    odd_dieci = sum(1 for p in poems for line in p["lines"] for a, b in pairwise(line)
                    if a == b and a not in licensed)
    n = len(poems)
    clashes = sum(seasons.clashes(p["topic"], p["lines"]) for p in poems)
    artifact_poems = artifacts = 0
    iso_topic, iso_other = [0, 0], [0, 0]
    rhyme_dom = rhyme_common = rhyme_total = 0
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
        found = topic_artifacts(p["lines"], p["topic"], bigrams)
        artifacts += len(found)
        artifact_poems += bool(found)
        if p["lines"]:
            d, c, t = rhyme_readings(p["lines"], table, usage)
            rhyme_dom, rhyme_common, rhyme_total = rhyme_dom + d, rhyme_common + c, rhyme_total + t
        if bigrams is not None:
            other = isolated_share(p["lines"], bigrams, skip=p["topic"])
            iso_other = [iso_other[0] + other[0], iso_other[1] + other[1]]
            mine = isolated_share(p["lines"], bigrams, skip="".join(set(body) - topic_chars))
            iso_topic = [iso_topic[0] + mine[0], iso_topic[1] + mine[1]]
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
        "season_clash_share": clashes / n if n else float("nan"),
        "unlicensed_dieci": odd_dieci,  # 叠字 the corpus does not write (月月, 鱼鱼)
        "topic_artifact_poems": artifact_poems,
        "topic_artifacts": artifacts,
        "topic_isolated_share": iso_topic[0] / iso_topic[1] if iso_topic[1] else float("nan"),
        "other_isolated_share": iso_other[0] / iso_other[1] if iso_other[1] else float("nan"),
        "rhyme_dominant_reading_share": rhyme_dom / rhyme_total if rhyme_total else float("nan"),
        "rhyme_common_reading_share": rhyme_common / rhyme_total if rhyme_total else float("nan"),
    }


def run_eval(
    n: int = 200,
    candidates: int | None = None,
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
    bigrams = corpus_bigrams(data_dir) if have_corpus else None
    metrics = score_poems(poems, train_lines, bigrams)
    metrics["failures"] = failures
    metrics["seconds_per_poem"] = elapsed / n
    metrics["candidates"] = candidates or composer.default_candidates
    if have_corpus:
        from poetcore.model.train import encode_poems, evaluate_bpc  # heavy: torch

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

    from poetcore.model.modeling import default_model_dir  # torch, as above
    from poetcore.model.tokenizer import load_tokenizer  # torch, as above
    from poetcore.model.train import encode_poems, evaluate_bpc  # torch, as above

    path = Path(model or default_model_dir())
    tokenizer = load_tokenizer(path)
    train = encode_poems(load_split(data_dir, "train"), tokenizer)
    valid = encode_poems(load_split(data_dir, "valid")[:max_valid], tokenizer)
    tri = trigram_bpc(
        [e.body for e in train], [e.body for e in valid], len(tokenizer), valid_chars=sum(e.n_chars for e in valid)
    )
    lm = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    return {"trigram_valid_bpc": tri, "model_valid_bpc": evaluate_bpc(lm, tokenizer, valid), "valid_poems": len(valid)}
