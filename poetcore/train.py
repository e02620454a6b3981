"""Training loop for the poem LM: AdamW, warm-up + cosine decay, clipping, bpc evaluation, resumable.

Loss is taken only on the poem body (and EOS): the prompt (form, keywords) is conditioning the user
supplies at inference, so spending capacity on predicting it would be wasted.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from poetcore.data.corpus import load_split
from poetcore.modeling import TrainPreset, new_model
from poetcore.tokenizer import build_tokenizer, ensure_special_tokens, format_body, format_prompt

log = logging.getLogger(__name__)
LN2 = math.log(2.0)


@dataclass
class Encoded:
    """One poem, tokenised once: body ids are fixed, keyword choices vary per epoch."""

    form: str
    body: list[int]  # poem body + EOS
    n_chars: int  # characters the body stands for (for bpc with multi-char tokenizers)
    keywords: list[str]
    lines: list[str]


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    best_bpc: float = float("inf")
    elapsed_s: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)


def encode_poems(poems: Sequence[dict], tokenizer) -> list[Encoded]:
    bodies = [format_body(p["lines"]) for p in poems]
    ids = tokenizer(bodies, add_special_tokens=False)["input_ids"]
    eos = tokenizer.eos_token_id
    return [
        Encoded(p["form"], [*i, eos], len(b) + 1, list(p.get("keywords") or []), list(p["lines"]))
        for p, i, b in zip(poems, ids, bodies, strict=True)
    ]


class PromptSampler:
    """Chooses conditioning keywords for a training example.

    Users type short topics (秋月, 送别); besides the corpus keywords we sometimes condition on a random
    char or bigram of the body so the model learns to *use* whatever topic characters it is given.
    With some probability there is no keyword, so unconditional generation works too.
    """

    def __init__(self, tokenizer, rng: random.Random, p_corpus: float = 0.55, p_body: float = 0.35) -> None:
        self.tokenizer = tokenizer
        self.rng = rng
        self.p_corpus = p_corpus
        self.p_body = p_body
        self._cache: dict[tuple[str, tuple[str, ...]], list[int]] = {}

    def keywords(self, ex: Encoded) -> tuple[str, ...]:
        r = self.rng.random()
        if r < self.p_corpus and ex.keywords:
            kws = list(ex.keywords)
            self.rng.shuffle(kws)
            return tuple(kws[: self.rng.randint(1, len(kws))])
        if r < self.p_corpus + self.p_body:
            line = self.rng.choice(ex.lines)
            n = self.rng.choice((1, 2, 2))
            start = self.rng.randrange(0, max(1, len(line) - n + 1))
            return (line[start : start + n],)
        return ()

    def prompt_ids(self, form: str, keywords: tuple[str, ...]) -> list[int]:
        key = (form, keywords)
        if key not in self._cache:
            if len(self._cache) > 200_000:
                self._cache.clear()
            self._cache[key] = self.tokenizer(format_prompt(form, keywords), add_special_tokens=False)["input_ids"]
        return self._cache[key]


def collate(rows: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    """Right-pad (prompt, body) pairs; labels cover the body only."""
    T = max(len(p) + len(b) for p, b in rows)
    input_ids = torch.full((len(rows), T), pad_id, dtype=torch.long)  # (B, T)
    labels = torch.full((len(rows), T), -100, dtype=torch.long)  # (B, T)
    attn = torch.zeros((len(rows), T), dtype=torch.long)
    for i, (p, b) in enumerate(rows):
        seq = p + b
        input_ids[i, : len(seq)] = torch.tensor(seq)
        labels[i, len(p) : len(seq)] = torch.tensor(b)
        attn[i, : len(seq)] = 1
    return {"input_ids": input_ids, "attention_mask": attn, "labels": labels}


def batches(data: list[Encoded], batch_size: int, rng: random.Random) -> Iterator[list[Encoded]]:
    """Shuffled batches grouped by form, so padding stays minimal (bodies of one form have equal length)."""
    by_form: dict[str, list[Encoded]] = {}
    for ex in data:
        by_form.setdefault(ex.form, []).append(ex)
    chunks: list[list[Encoded]] = []
    for group in by_form.values():
        rng.shuffle(group)
        chunks.extend(group[i : i + batch_size] for i in range(0, len(group), batch_size))
    rng.shuffle(chunks)
    yield from chunks


@torch.no_grad()
def evaluate_bpc(model: PreTrainedModel, tokenizer, data: list[Encoded], batch_size: int = 128) -> float:
    """Bits per character of the poem body (incl. EOS) given form and the poem's own keywords."""
    model.eval()
    device = next(model.parameters()).device
    sampler = PromptSampler(tokenizer, random.Random(0))
    total_nll, total_chars = 0.0, 0
    for i in range(0, len(data), batch_size):
        chunk = data[i : i + batch_size]
        rows = [(sampler.prompt_ids(ex.form, tuple(ex.keywords)), ex.body) for ex in chunk]
        batch = {k: v.to(device) for k, v in collate(rows, tokenizer.pad_token_id).items()}
        with _autocast(device):
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)  # (B, T-1, V)
        tgt = batch["labels"][:, 1:]
        mask = tgt != -100
        nll = -logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1)  # (B, T-1)
        total_nll += float((nll * mask).sum())
        total_chars += sum(ex.n_chars for ex in chunk)
    model.train()
    return total_nll / max(1, total_chars) / LN2


def _adapt_threads() -> None:
    """One intra-op thread when the CPU is oversubscribed, else all cores.

    Measured on 2 cores at load ~9: 9.5 s/step with 1 thread vs 13.7 s with 2 (threads stall at
    barriers when descheduled); on an idle machine 2 threads win (1.45 s/step).
    """
    import os

    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] > cores + 1
    want = 1 if busy else cores
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)
        log.info("trainer: load %.1f, using %d thread(s)", os.getloadavg()[0], want)


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def build_vocab_tokenizer(train: Sequence[dict], min_count: int = 2):
    texts = ("".join(p["lines"]) + "".join(p.get("keywords") or []) for p in train)
    return build_tokenizer(texts, min_count=min_count)


def train(
    data_dir: Path,
    out_dir: Path,
    preset: TrainPreset,
    *,
    init_from: Path | None = None,
    resume: bool = False,
    device: str | None = None,
    max_steps: int | None = None,
    max_minutes: float | None = None,
    max_train: int | None = None,
    max_valid: int = 3000,
    seed: int = 0,
    show_progress: bool = True,
) -> dict[str, object]:
    """Train (or fine-tune) a model and save the best checkpoint to ``out_dir/final``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    rng = random.Random(seed)
    torch.manual_seed(seed)
    train_poems = load_split(data_dir, "train")
    valid_poems = load_split(data_dir, "valid")
    if not train_poems or not valid_poems:
        raise ValueError(f"{data_dir} has no train/valid poems; run `poetcore data prepare` first")
    if max_train:
        train_poems = train_poems[:max_train]
    valid_poems = valid_poems[:max_valid]

    ckpt_dir = out_dir / "checkpoint"
    state = TrainState()
    tokenizer: Any
    model: Any
    if resume and (ckpt_dir / "trainer_state.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(ckpt_dir)
        model = AutoModelForCausalLM.from_pretrained(ckpt_dir)
        raw = json.loads((ckpt_dir / "trainer_state.json").read_text())
        state = TrainState(**raw)
        log.info("trainer: resuming from %s at step %d", ckpt_dir, state.step)
    elif init_from is not None:
        tokenizer = AutoTokenizer.from_pretrained(init_from)
        model = AutoModelForCausalLM.from_pretrained(init_from)
        if ensure_special_tokens(tokenizer):
            model.resize_token_embeddings(len(tokenizer))
        log.info("trainer: fine-tuning %s (%d tokens in vocab)", init_from, len(tokenizer))
    else:
        tokenizer = build_vocab_tokenizer(train_poems)
        model = new_model(preset.size, tokenizer, seed=seed)
    model.to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("trainer: %d parameters, vocab %d, device %s", n_params, len(tokenizer), dev)

    train_data = encode_poems(train_poems, tokenizer)
    valid_data = encode_poems(valid_poems, tokenizer)
    steps = max_steps or preset.max_steps
    minutes = max_minutes if max_minutes is not None else preset.max_minutes

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": preset.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=preset.lr,
        betas=(0.9, 0.95),
        fused=dev.type == "cuda",
    )
    started = time.monotonic() - state.elapsed_s

    def lr_factor(step: int) -> float:
        # Warm-up, then cosine decay over whichever budget runs out first (steps or wall clock), so a
        # run capped by --max-minutes still ends with a small learning rate instead of mid-schedule.
        if step < preset.warmup_steps:
            return (step + 1) / preset.warmup_steps
        progress = (step - preset.warmup_steps) / max(1, steps - preset.warmup_steps)
        if minutes is not None:
            progress = max(progress, (time.monotonic() - started) / (minutes * 60))
        return max(0.02, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    if resume and (ckpt_dir / "optimizer.pt").exists():
        opt_state = torch.load(ckpt_dir / "optimizer.pt", map_location=dev, weights_only=False)
        opt.load_state_dict(opt_state["optimizer"])
        sched.load_state_dict(opt_state["scheduler"])
        rng.setstate(opt_state["py_rng"])

    sampler = PromptSampler(tokenizer, rng)
    metrics_path = out_dir / "metrics.jsonl"
    model.train()

    def save_checkpoint() -> None:
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(ckpt_dir)
        tokenizer.save_pretrained(ckpt_dir)
        torch.save(
            {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "py_rng": rng.getstate()},
            ckpt_dir / "optimizer.pt",
        )
        (ckpt_dir / "trainer_state.json").write_text(json.dumps(asdict(state)))

    def run_eval() -> float:
        bpc = evaluate_bpc(model, tokenizer, valid_data)
        record = {
            "step": state.step,
            "epoch": state.epoch,
            "train_loss": running / max(1, count),
            "valid_bpc": bpc,
            "lr": float(sched.get_last_lr()[0]),
            "elapsed_s": time.monotonic() - started,
        }
        state.history.append(record)
        with metrics_path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if bpc < state.best_bpc:
            state.best_bpc = bpc
            model.save_pretrained(out_dir / "final")
            tokenizer.save_pretrained(out_dir / "final")
        state.elapsed_s = time.monotonic() - started
        save_checkpoint()
        log.info("trainer: step %d valid bpc %.4f (best %.4f)", state.step, bpc, state.best_bpc)
        return bpc

    running, count = 0.0, 0
    progress = Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f} bpc {task.fields[bpc]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not show_progress,
    )
    stop_reason = "max_steps"
    with progress:
        task = progress.add_task("train", total=steps, completed=state.step, loss=float("nan"), bpc="-")
        while state.step < steps:
            for chunk in batches(train_data, preset.batch_size, rng):
                rows = [(sampler.prompt_ids(ex.form, sampler.keywords(ex)), ex.body) for ex in chunk]
                batch = {k: v.to(dev) for k, v in collate(rows, tokenizer.pad_token_id).items()}
                with _autocast(dev):
                    loss = model(**batch).loss
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), preset.grad_clip)
                opt.step()
                sched.step()
                opt.zero_grad(set_to_none=True)
                state.step += 1
                running += float(loss.detach())
                count += 1
                progress.update(task, completed=state.step, loss=running / count)
                if dev.type == "cpu" and state.step % 20 == 0:
                    _adapt_threads()
                if state.step % 50 == 0:
                    log.info(
                        "trainer: step %d loss %.4f lr %.2e elapsed %.1f min",
                        state.step, running / count, sched.get_last_lr()[0], (time.monotonic() - started) / 60,
                    )
                if state.step % preset.eval_every == 0 or state.step >= steps:
                    bpc = run_eval()
                    progress.update(task, bpc=f"{bpc:.3f}")
                    running, count = 0.0, 0
                if minutes is not None and time.monotonic() - started > minutes * 60:
                    stop_reason = "max_minutes"
                    break
                if state.step >= steps:
                    break
            else:
                state.epoch += 1
                continue
            break
    if not state.history or state.history[-1]["step"] != state.step:
        run_eval()
    summary = {
        "preset": preset.name,
        "steps": state.step,
        "epochs": state.step * preset.batch_size / max(1, len(train_data)),
        "best_valid_bpc": state.best_bpc,
        "train_minutes": (time.monotonic() - started) / 60,
        "parameters": n_params,
        "vocab_size": len(tokenizer),
        "device": str(dev),
        "train_poems": len(train_data),
        "valid_poems": len(valid_data),
        "stop_reason": stop_reason,
        "init_from": str(init_from) if init_from else None,
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary
