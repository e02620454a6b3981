"""Train the critic (`poetcore.model.critic`): real poems against the generator's own samples.

The data is built to leave the critic one thing to learn, the difference between a real poem and
ours:
- each negative is composed for the prompt of a real poem (same form, the poem's first keyword as the
  topic), so topic and form are balanced between the classes;
- negatives are drawn the way the composer draws its candidates (the shipped decoding, one sample per
  request, no rerank), because those are what the critic reranks; ``hard`` adds the composer's
  reranked choices, once a critic shapes them (retrain when its AUC on our output falls toward 0.5);
- the held-out AUC is measured on real poems of another split and negatives of held-out prompts.

The critic starts from the LM's weights, so the few thousand negatives a CPU writes in minutes go far.
"""

from __future__ import annotations

import copy
import gzip
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import torch

from poetcore.compose import Composer
from poetcore.data.corpus import load_split
from poetcore.model.critic import PoemCritic, critic_text, new_critic
from poetcore.model.tokenizer import FORM_NAMES, load_tokenizer
from poetcore.model.train import resolve_bf16
from poetcore.request import ComposeRequest

log = logging.getLogger(__name__)


@dataclass
class CriticExample:
    form: str
    lines: list[str]
    label: int  # 1 real, 0 ours
    topic: str = ""
    pair: list[str] | None = None  # ours: the lines of the real poem whose prompt it was composed for


@dataclass
class CriticReport:
    """What a critic run measured; saved as ``critic_summary.json`` beside the critic."""

    lm: str
    train_real: int
    train_ours: int
    heldout_real: int
    heldout_ours: int
    heldout_auc: float
    epochs: int
    lr: float
    seconds: float
    sampling: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    hard_negatives: int = 0
    date: str = ""


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve: the chance a random positive scores above a random negative (ties
    count half). Mann-Whitney, so no library is needed and anyone can check it by hand."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y == 1]
    neg = [s for s, y in zip(scores, labels, strict=True) if y == 0]
    if not pos or not neg:
        raise ValueError("AUC needs at least one positive and one negative")
    ranked = sorted((s, i) for i, s in enumerate([*pos, *neg]))
    ranks = [0.0] * len(ranked)
    k = 0
    while k < len(ranked):
        j = k
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[k][0]:
            j += 1
        for m in range(k, j + 1):
            ranks[ranked[m][1]] = (k + j) / 2 + 1
        k = j + 1
    pos_ranks = sum(ranks[: len(pos)])
    return (pos_ranks - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def real_examples(data_dir: Path, split: str, count: int, rng: random.Random,
                  forms: Sequence[str] = FORM_NAMES) -> list[CriticExample]:
    """``count`` random poems of the four forms from one split, keyed by their first keyword."""
    poems = [p for p in load_split(data_dir, split) if p["form"] in forms]
    rng.shuffle(poems)
    return [CriticExample(p["form"], list(p["lines"]), 1, (p.get("keywords") or [p["lines"][0][:2]])[0])
            for p in poems[:count]]


def raw_sampler(composer: Composer, temperature: float | None = None) -> Composer:
    """The same composer drawing plain samples (one row each, no beams): the candidates a sampling
    decoder reranks. Shares the model; only the decoding differs."""
    raw = copy.copy(composer)
    raw.generation_config = copy.deepcopy(composer.generation_config)
    raw.generation_config.num_beams = 1
    if temperature is not None:
        raw.generation_config.temperature = temperature
    return raw


def sampled_examples(composer: Composer, prompts: Sequence[CriticExample], seed: int, *, candidates: int = 1,
                     batch: int = 64, progress: Callable[[int], None] | None = None) -> list[CriticExample]:
    """One poem of ours per prompt, composed with the composer's own decoding (``candidates=1``: the
    raw samples it reranks; more: its reranked choice, the hard negatives)."""
    out: list[CriticExample] = []
    for start in range(0, len(prompts), batch):
        chunk = prompts[start : start + batch]
        reqs = [ComposeRequest(p.topic, p.form, n=candidates, seed=seed + start + k) for k, p in enumerate(chunk)]
        for req, poem, real in zip(reqs, composer.compose_batch(reqs), chunk, strict=True):
            if not isinstance(poem, Exception):
                out.append(CriticExample(req.form, poem.lines, 0, req.topic, real.lines))
        if progress is not None:
            progress(len(chunk))
    return out


PAIRS_FILE = "pairs.jsonl.gz"
"""Beside a trained critic: each poem of ours with the real poem whose prompt it answered (audit, and
preference pairs for the generator)."""


def save_examples(path: Path, examples: Sequence[CriticExample]) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for e in examples:
            f.write(json.dumps(asdict(e), ensure_ascii=False) + "\n")


def load_examples(path: Path) -> list[CriticExample]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [CriticExample(**json.loads(line)) for line in f if line.strip()]


def _batches(examples: list[CriticExample], size: int, rng: random.Random) -> list[list[CriticExample]]:
    order = examples[:]
    rng.shuffle(order)
    return [order[i : i + size] for i in range(0, len(order), size)]


def _encode(tokenizer, chunk: Sequence[CriticExample]) -> dict[str, torch.Tensor]:
    enc = tokenizer([critic_text(e.form, e.lines) for e in chunk], return_tensors="pt", padding=True,
                    padding_side="right", add_special_tokens=False)
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def fit_critic(lm_dir: Path, train: list[CriticExample], heldout: list[CriticExample], out_dir: Path, *,
               epochs: int = 2, lr: float = 1e-4, batch_size: int = 32, seed: int = 0, precision: str = "auto",
               progress: Callable[[int], None] | None = None) -> tuple[PoemCritic, list[dict[str, float]]]:
    """Fine-tune a critic from the LM in ``lm_dir``; keep the epoch with the best held-out AUC."""
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = load_tokenizer(lm_dir)
    model = new_critic(lm_dir)
    device = torch.device("cpu")
    bf16 = resolve_bf16(precision, device)
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    total = epochs * ((len(train) + batch_size - 1) // batch_size)
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lambda step: min(1.0, (step + 1) / 20) * max(0.05, 1 - step / total))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    history: list[dict[str, float]] = []
    best = -1.0
    for epoch in range(epochs):
        model.train()
        losses = []
        for chunk in _batches(train, batch_size, rng):
            enc = _encode(tokenizer, chunk)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(**enc).logits[:, 0]
            loss = loss_fn(logits.float(), torch.tensor([float(e.label) for e in chunk]))
            optim.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            losses.append(float(loss.detach()))
            if progress is not None:
                progress(len(chunk))
        critic = PoemCritic(model, tokenizer, device)
        auc = roc_auc(critic.logits([(e.form, e.lines) for e in heldout]), [e.label for e in heldout])
        history.append({"epoch": epoch + 1, "train_loss": sum(losses) / len(losses), "heldout_auc": auc})
        log.info("critic: epoch %d loss %.4f held-out AUC %.4f", epoch + 1, history[-1]["train_loss"], auc)
        if auc > best:
            best = auc
            save_critic(model, tokenizer, out_dir)
    return PoemCritic.from_pretrained(out_dir), history


def save_critic(model, tokenizer, out_dir: Path) -> None:
    """Weights stored in bf16 (half the repo's bytes; a ranking does not need fp32's digits), loaded
    back in fp32 by `PoemCritic.from_pretrained`."""
    copy.deepcopy(model).to(torch.bfloat16).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)


def write_critic_card(out_dir: Path, report: CriticReport) -> None:
    """``critic_summary.json`` and a short model card: what it learned from, and how well."""
    (out_dir / "critic_summary.json").write_text(json.dumps(asdict(report), ensure_ascii=False, indent=1),
                                                 encoding="utf-8")
    rows = "\n".join(f"| {h['epoch']:.0f} | {h['train_loss']:.4f} | {h['heldout_auc']:.4f} |" for h in report.history)
    card = f"""---
language: zh
license: mit
library_name: transformers
pipeline_tag: text-classification
tags: [poetry, classical-chinese, critic]
---

# poetcore critic: real poem or ours?

A `LlamaForSequenceClassification` with one logit, the log-odds that a poem is real, initialised from
the LM it judges (`{report.lm}`) and fine-tuned on real poems against that LM's own samples. The
composer adds `critic_weight` × this logit to each sampled candidate's score
(`poetcore.model.critic`, `poetcore.compose`).

## Data
- Real: {report.train_real} poems of the corpus train split (五绝 七绝 五律 七律), keyed by their first keyword.
- Ours: {report.train_ours} poems composed for the same prompts with the shipped decoding
  ({json.dumps(report.sampling, ensure_ascii=False)}){f", {report.hard_negatives} of them the composer's reranked choices (hard negatives)" if report.hard_negatives else ""}.
- Held out: {report.heldout_real} real poems of the valid split and {report.heldout_ours} of ours for other prompts.

## Training
{report.epochs} epochs, AdamW lr {report.lr}, batch 32, {report.seconds / 60:.1f} minutes on CPU; the best epoch by held-out AUC is kept.

| epoch | train loss | held-out AUC |
|---|---|---|
{rows}

**Held-out AUC {report.heldout_auc:.4f}.** Reproduce: `poetcore critic train` (see `poetcore critic train --help`).
Trained {report.date}.
"""
    (out_dir / "README.md").write_text(card, encoding="utf-8")


def train_critic(composer: Composer, lm_dir: Path, data_dir: Path, out_dir: Path, *, negatives: int = 3000,
                 heldout: int = 400, hard: int = 0, epochs: int = 2, lr: float = 1e-4, seed: int = 0,
                 temperature: float | None = None, precision: str = "auto",
                 progress: Callable[[str, int, int], None] | None = None) -> CriticReport:
    """Compose the negatives, fit the critic, save it with its card under ``out_dir``.

    ``negatives`` are plain samples (at ``temperature``, default the composer's); ``hard`` are the
    composer's own choices under its shipped decoding (beams or reranked samples), the poems readers
    actually see. Held-out negatives mix both in the same proportion."""
    t0 = time.perf_counter()
    rng = random.Random(seed)
    train_real = real_examples(data_dir, "train", negatives + hard, rng)
    held_real = real_examples(data_dir, "valid", heldout, rng)
    prompts = train_real[:negatives]
    held_prompts = real_examples(data_dir, "test", heldout, rng)  # prompts only: their text is never used

    def tick(stage: str, total: int) -> Callable[[int], None] | None:
        return (lambda k: progress(stage, k, total)) if progress is not None else None

    raw = raw_sampler(composer, temperature)
    ours = sampled_examples(raw, prompts, seed, progress=tick("ours", len(prompts))) if negatives else []
    hard_ours = sampled_examples(composer, train_real[negatives:], seed + 10**6, candidates=composer.default_candidates,
                                 progress=tick("hard", hard)) if hard else []
    held_hard = round(heldout * hard / (hard + negatives))
    held_ours = [*sampled_examples(raw, held_prompts[held_hard:], seed + 2 * 10**6, progress=tick("held-out", heldout)),
                 *sampled_examples(composer, held_prompts[:held_hard], seed + 3 * 10**6,
                                   candidates=composer.default_candidates, progress=tick("held-out", heldout))]
    train_set = [*train_real[: len(ours) + len(hard_ours)], *ours, *hard_ours]
    out_dir.mkdir(parents=True, exist_ok=True)
    save_examples(out_dir / PAIRS_FILE, [*ours, *hard_ours])
    _, history = fit_critic(lm_dir, train_set, [*held_real, *held_ours], out_dir, epochs=epochs, lr=lr, seed=seed,
                            precision=precision, progress=tick("fit", epochs * len(train_set)))
    config = composer.generation_config
    report = CriticReport(
        lm=str(lm_dir), train_real=len(ours) + len(hard_ours), train_ours=len(ours) + len(hard_ours),
        heldout_real=len(held_real), heldout_ours=len(held_ours),
        heldout_auc=max(h["heldout_auc"] for h in history), epochs=epochs, lr=lr,
        seconds=time.perf_counter() - t0, history=history, hard_negatives=len(hard_ours),
        sampling={"plain": {"num_beams": 1, "temperature": raw.generation_config.temperature, "top_p": config.top_p},
                  "hard": {"num_beams": config.num_beams, "temperature": config.temperature,
                           "candidates": composer.default_candidates}},
        date=datetime.now(UTC).date().isoformat(),
    )
    write_critic_card(out_dir, report)
    return report


def output_auc(composer: Composer, critic: PoemCritic, data_dir: Path, *, count: int = 300,
               seed: int = 0) -> dict[str, float]:
    """The critic's AUC on what the composer ships (its reranked choices) against real poems of the
    valid split, for prompts of the test split: near 0.5, the critic can no longer tell ours from
    real, and it is time to retrain it on these poems (``--hard``)."""
    rng = random.Random(seed)
    real = real_examples(data_dir, "valid", count, rng)
    ours = sampled_examples(composer, real_examples(data_dir, "test", count, rng), seed, candidates=composer.default_candidates)
    scores = critic.logits([(e.form, e.lines) for e in [*real, *ours]])
    labels = [e.label for e in [*real, *ours]]
    return {"auc": roc_auc(scores, labels), "real": len(real), "ours": len(ours),
            "mean_logit_real": sum(scores[: len(real)]) / len(real),
            "mean_logit_ours": sum(scores[len(real):]) / max(1, len(ours))}


__all__ = [
    "PAIRS_FILE",
    "CriticExample",
    "CriticReport",
    "fit_critic",
    "load_examples",
    "output_auc",
    "raw_sampler",
    "real_examples",
    "roc_auc",
    "sampled_examples",
    "save_critic",
    "save_examples",
    "train_critic",
    "write_critic_card",
]
