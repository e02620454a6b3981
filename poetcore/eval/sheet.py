"""Blind reading: a sheet of poem pairs from two models (or decoding settings), and its score.

Quality claims about poems come from people (or careful model readers) who do not know which
system wrote which poem. `write_sheet` composes every topic × form with both sides under the same
seed, shuffles each pair into A/B with a seeded coin, and writes the sheet and the key to separate
files: readers get ``sheet.md`` only. `score_sheet` joins the readers' answers with the key.

A reader's answers are one JSON file, ``answers-<reader>.json``::

    {"1": {"A": true, "B": false, "prefer": "A"}, "2": {"A": false, "B": false, "prefer": "="}, ...}

``A``/``B``: is that poem coherent (every line makes sense and the lines belong together);
``prefer``: ``"A"``, ``"B"`` or ``"="``.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetcore.eval.evaluate import corpus_bigrams, corpus_lines, score_poems
from poetcore.request import ComposeRequest, Poem

DEFAULT_TOPICS = Path(__file__).resolve().parents[2] / "docs" / "blind-reading" / "topics.txt"
SHEET_FORMS: tuple[str, ...] = ("七绝", "五律")
SHEET_FILE = "sheet.md"
KEY_FILE = "key.json"


@dataclass(frozen=True)
class Side:
    """One system under comparison: a model directory (its generation_config.json is its decoding),
    composed by this checkout's code or, with ``code``, by the poetcore in another checkout (an
    earlier revision's `git worktree`), so a sheet can compare whole systems, decoder included."""

    name: str
    model: Path | None  # None: the shipped model (of the checkout that composes)
    code: Path | None = None


_COMPOSE_ELSEWHERE = """
import json, sys
from poetcore.compose import Composer
from poetcore.request import ComposeRequest
model, jobs, candidates, device = json.loads(sys.stdin.read())
composer = Composer.from_pretrained(model, device=device)
out = []
for topic, form, seed in jobs:
    poem = composer.compose_batch([ComposeRequest(topic, form, n=candidates, seed=seed)])[0]
    if isinstance(poem, Exception):
        raise poem
    out.append({"text": poem.text, "lines": poem.lines, "lm_logprob": poem.lm_logprob, "rhyme": poem.rhyme_group})
sys.stdout.write(json.dumps(out, ensure_ascii=False))
"""


def load_topics(path: Path = DEFAULT_TOPICS) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _compose_all(
    side: Side, jobs: Sequence[tuple[str, str, int]], candidates: int, device: str | None
) -> list[dict[str, Any]]:
    if side.code is not None:
        return _compose_elsewhere(side, jobs, candidates, device)
    from poetcore.compose import Composer  # heavy: torch

    composer = Composer.from_pretrained(side.model, device=device)
    out: list[dict[str, Any]] = []
    for topic, form, seed in jobs:
        poem = composer.compose_batch([ComposeRequest(topic, form, n=candidates, seed=seed)])[0]
        if isinstance(poem, Exception):
            raise poem
        out.append(_poem_record(poem))
    return out


def _compose_elsewhere(
    side: Side, jobs: Sequence[tuple[str, str, int]], candidates: int, device: str | None
) -> list[dict[str, Any]]:
    """Compose in a child Python whose ``poetcore`` is the one in ``side.code``."""

    assert side.code is not None
    if not (side.code / "poetcore" / "compose.py").is_file():
        raise FileNotFoundError(f"{side.code} holds no poetcore checkout (poetcore/compose.py missing)")
    env = {**os.environ, "PYTHONPATH": str(side.code.resolve())}
    payload = json.dumps([str(side.model) if side.model else None, list(jobs), candidates, device])
    done = subprocess.run([sys.executable, "-c", _COMPOSE_ELSEWHERE], input=payload, capture_output=True, text=True,
                          env=env, cwd=side.code, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"composing with the code in {side.code} failed:\n{done.stderr[-2000:]}")
    records: list[dict[str, Any]] = json.loads(done.stdout)
    return records


def write_sheet(
    a: Side,
    b: Side,
    out_dir: Path,
    *,
    topics: Sequence[str] | None = None,
    forms: Sequence[str] = SHEET_FORMS,
    seed: int = 2026,
    candidates: int = 8,
    device: str | None = None,
) -> dict[str, Any]:
    """Write ``sheet.md`` (for readers) and ``key.json`` (never for readers) under ``out_dir``."""
    topics = list(topics or load_topics())
    jobs = [(topic, form, seed + i) for i, (topic, form) in enumerate((t, f) for t in topics for f in forms)]
    poems = {side.name: _compose_all(side, jobs, candidates, device) for side in (a, b)}
    coin = random.Random(seed)
    items: list[dict[str, Any]] = []
    for i, (topic, form, poem_seed) in enumerate(jobs):
        first, second = (a, b) if coin.random() < 0.5 else (b, a)
        items.append({
            "item": i + 1, "topic": topic, "form": form, "seed": poem_seed,
            "A": first.name, "B": second.name,
            "poems": {side.name: poems[side.name][i] for side in (a, b)},
        })
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SHEET_FILE).write_text(_sheet_text(items), encoding="utf-8")
    key = {"sides": {s.name: str(s.model or "<shipped>") + (f" (code: {s.code})" if s.code else "") for s in (a, b)},
           "candidates": candidates, "items": items}
    (out_dir / KEY_FILE).write_text(json.dumps(key, ensure_ascii=False, indent=1), encoding="utf-8")
    return key


def _poem_record(poem: Poem) -> dict[str, Any]:
    return {"text": poem.text, "lines": poem.lines, "lm_logprob": poem.lm_logprob, "rhyme": poem.rhyme_group}


def _sheet_text(items: list[dict[str, Any]]) -> str:
    out = [
        "# Blind reading sheet",
        "",
        "Each item has two poems on the same topic and form. For each poem say whether it is coherent",
        "(every line makes sense and the lines belong together), then which of the two you prefer (A, B or =).",
        "",
    ]
    for item in items:
        out += [f"## {item['item']}. 《{item['topic']}》 {item['form']}", ""]
        for label in ("A", "B"):
            lines = item["poems"][item[label]]["lines"]
            out.append(f"- {label}: " + "".join(line + ("，" if k % 2 == 0 else "。") for k, line in enumerate(lines)))
        out.append("")
    return "\n".join(out)


def side_metrics(key: dict[str, Any], data_dir: Path | None = None) -> dict[str, dict[str, float]]:
    """`poetcore.eval.evaluate.score_poems` per side of a sheet (distinct-n, rhyme readings, topic
    artifacts, season clashes; copy rate and isolated pairs only with a prepared corpus in ``data_dir``),
    so a round's numbers come from the very poems its readers judged."""

    corpus = data_dir if data_dir is not None and (data_dir / "train.jsonl.gz").is_file() else None
    train_lines = corpus_lines(corpus) if corpus else None
    bigrams = corpus_bigrams(corpus) if corpus else None
    return {
        side: score_poems([{"topic": i["topic"], "form": i["form"], "lines": i["poems"][side]["lines"]}
                           for i in key["items"]], train_lines, bigrams)
        for side in key["sides"]
    }


def score_sheet(out_dir: Path, data_dir: Path | None = None) -> dict[str, Any]:
    """Coherent share per side and pairwise preference, over every ``answers-*.json`` in ``out_dir``,
    with each side's text metrics (`side_metrics`)."""
    key = json.loads((out_dir / KEY_FILE).read_text(encoding="utf-8"))
    sides = list(key["sides"])
    readers = sorted(out_dir.glob("answers-*.json"))
    if not readers:
        raise FileNotFoundError(f"no answers-*.json in {out_dir}; readers write one file each")
    coherent: dict[str, list[float]] = {s: [] for s in sides}
    prefer: dict[str, int] = {**{s: 0 for s in sides}, "=": 0}
    per_reader: dict[str, dict[str, float]] = {}
    for path in readers:
        answers = json.loads(path.read_text(encoding="utf-8"))
        mine: dict[str, list[float]] = {s: [] for s in sides}
        for item in key["items"]:
            answer = answers.get(str(item["item"]))
            if answer is None:
                continue
            for label in ("A", "B"):
                mine[item[label]].append(1.0 if answer.get(label) else 0.0)
            choice = answer.get("prefer", "=")
            prefer[item[choice] if choice in ("A", "B") else "="] += 1
        for side in sides:
            coherent[side] += mine[side]
        per_reader[path.stem.removeprefix("answers-")] = {s: statistics.fmean(mine[s] or [0.0]) for s in sides}
    logprob = {s: statistics.fmean(i["poems"][s]["lm_logprob"] for i in key["items"]) for s in sides}
    return {
        "readers": len(readers),
        "items": len(key["items"]),
        "coherent_share": {s: statistics.fmean(coherent[s] or [0.0]) for s in sides},
        "coherent_share_per_reader": per_reader,
        "preferred": prefer,
        "mean_lm_logprob": logprob,
        "text_metrics": side_metrics(key, data_dir),
        "sides": key["sides"],
    }


__all__ = ["DEFAULT_TOPICS", "SHEET_FORMS", "Side", "load_topics", "score_sheet", "side_metrics", "write_sheet"]
