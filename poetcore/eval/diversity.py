"""Companion text metrics for the blind reads: how varied our poems are, next to real ones.

Readers judge poems one at a time; they cannot see that the machine writes 春风 at the head of every
春 line, or the same four-character phrase in every third poem. These counts see it, and the same
counts over real 七绝 from the corpus are the yardstick. `run_diversity` is the rerunnable check
behind ``poetcore eval --diversity``: fixed topics and seeds, batched composing.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from poetcore.data.corpus import iter_poems, split_path
from poetcore.eval.evaluate import corpus_lines, score_poems
from poetcore.request import ComposeRequest

DIVERSITY_FORM = "七绝"
DIVERSITY_SEEDS = 10
"""Requests per topic: repeated requests of one topic are where a model's habits show."""
REPEATED_TOPIC = "秋月"
ACROSTIC_HEADS = "春夏秋冬"
REPEATED_REQUESTS = 8
YARDSTICK_POEMS = 300


def distinct_characters(poems: Sequence[dict[str, Any]]) -> int:
    """Distinct characters over all lines: a small vocabulary is one sign of a narrow model."""
    return len({ch for p in poems for line in p["lines"] for ch in line})


def repeated_ngram_share(poems: Sequence[dict[str, Any]], n: int = 4, min_count: int = 3) -> float:
    """Share of n-gram occurrences (inside lines) whose n-gram occurs ``min_count`` times or more
    over the whole set: stock phrases the model falls back on, whatever the topic.

    N-grams holding a character of their poem's ``topic`` are skipped: 秋月 poems may all say 秋月.
    NaN when there is no n-gram to count."""
    counts: Counter[str] = Counter()
    for p in poems:
        topic = set(p.get("topic") or "")
        for line in p["lines"]:
            counts.update(g for g in (line[i : i + n] for i in range(len(line) - n + 1)) if not topic & set(g))
    total = sum(counts.values())
    return sum(c for c in counts.values() if c >= min_count) / total if total else math.nan


def distinct_first_lines(poems: Sequence[dict[str, Any]]) -> float:
    """Distinct first lines / poems: 1.0 when every request of one topic starts its own way."""
    firsts = [p["lines"][0] for p in poems if p["lines"]]
    return len(set(firsts)) / len(poems) if poems else math.nan


def distinct_openings(poems: Sequence[dict[str, Any]], k: int = 2) -> list[float]:
    """Per line position, distinct ``k``-character line openings / poems. For 藏头 春夏秋冬 this is
    whether the model has more than one way (春风, 春来, 春山...) to put a head in place."""
    width = max((len(p["lines"]) for p in poems), default=0)
    return [len({p["lines"][i][:k] for p in poems if i < len(p["lines"])}) / len(poems) for i in range(width)]


def real_yardstick(data_dir: Path, count: int = YARDSTICK_POEMS, seed: int = 0,
                   form: str = DIVERSITY_FORM) -> list[dict[str, Any]]:
    """``count`` random real poems of ``form`` from the test split (fewer when it holds fewer)."""
    pool = [p for p in iter_poems(data_dir, "test") if p.get("form") == form and p.get("lines")]
    return random.Random(f"yardstick:{seed}").sample(pool, min(count, len(pool)))


def _compose(composer: Any, requests: list[ComposeRequest], chunk: int) -> tuple[list[dict[str, Any]], int]:
    poems: list[dict[str, Any]] = []
    failures = 0
    for start in range(0, len(requests), chunk):
        batch = requests[start : start + chunk]
        for req, result in zip(batch, composer.compose_batch(batch), strict=True):
            if isinstance(result, Exception):
                failures += 1
            else:
                poems.append({"topic": req.topic, "form": req.form, "lines": result.lines})
    return poems, failures


def run_diversity(
    topics: Sequence[str],
    *,
    model: Path | None = None,
    device: str | None = None,
    seed: int = 0,
    candidates: int | None = None,
    data_dir: Path | None = None,
    seeds: int = DIVERSITY_SEEDS,
    repeats: int = REPEATED_REQUESTS,
    chunk: int = 16,
) -> dict[str, Any]:
    """Compose ``topics`` × ``seeds`` 七绝 (seeds ``seed``..``seed+seeds-1``), ``repeats`` requests
    for 秋月 and as many for 藏头 春夏秋冬, and measure them; with a prepared corpus in ``data_dir``, add
    the copy rate and the same counts over real 七绝 (as many as we composed, at most 300; no topic to skip)."""
    from poetcore.compose import Composer  # heavy: torch

    composer = Composer.from_pretrained(model, device=device)
    requests = [ComposeRequest(t, DIVERSITY_FORM, n=candidates, seed=seed + k) for t in topics for k in range(seeds)]
    poems, failures = _compose(composer, requests, chunk)
    same_topic, f1 = _compose(composer, [ComposeRequest(REPEATED_TOPIC, DIVERSITY_FORM, n=candidates, seed=seed + k)
                                         for k in range(repeats)], chunk)
    acrostic, f2 = _compose(composer, [ComposeRequest("", DIVERSITY_FORM, heads=ACROSTIC_HEADS, n=candidates,
                                                      seed=seed + k) for k in range(repeats)], chunk)
    corpus = data_dir if data_dir is not None and split_path(data_dir, "test").is_file() else None
    train = corpus_lines(corpus) if corpus is not None and split_path(corpus, "train").is_file() else None
    scored = score_poems(poems, train) if poems else {}
    openings = distinct_openings(acrostic)
    result: dict[str, Any] = {
        "poems": len(poems),
        "failures": failures + f1 + f2,
        "distinct_characters": distinct_characters(poems),
        "repeated_4gram_share": repeated_ngram_share(poems),
        "copy_rate": scored.get("copy_rate", math.nan),
        "format_accuracy": scored.get("format_accuracy", math.nan),
        "tone_accuracy": scored.get("tone_accuracy", math.nan),
        "rhyme_accuracy": scored.get("rhyme_accuracy", math.nan),
        f"distinct_first_lines_{REPEATED_TOPIC}_{repeats}": distinct_first_lines(same_topic),
        f"distinct_openings_{ACROSTIC_HEADS}_{repeats}": _mean(openings),
        f"distinct_openings_{ACROSTIC_HEADS}_per_line": openings,
    }
    if corpus is not None:
        real = real_yardstick(corpus, min(YARDSTICK_POEMS, max(len(poems), 1)), seed)
        result["real_poems"] = len(real)
        result["real_distinct_characters"] = distinct_characters(real)
        result["real_repeated_4gram_share"] = repeated_ngram_share(real)
    return result


def _mean(values: Sequence[float]) -> float:
    """Mean, NaN for nothing (a metric that could not be measured is not a zero)."""
    return sum(values) / len(values) if values else math.nan


__all__ = [
    "distinct_characters",
    "distinct_first_lines",
    "distinct_openings",
    "real_yardstick",
    "repeated_ngram_share",
    "run_diversity",
]
