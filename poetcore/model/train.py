"""Training loop for the poem LM: AdamW, warm-up + cosine decay, clipping, bpc evaluation, resumable.

Loss is taken only on the poem body (and EOS): the prompt (form, keywords) is conditioning the user
supplies at inference, so spending capacity on predicting it would be wasted.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import AutoModelForCausalLM, PreTrainedModel

from poetcore.data.corpus import CI_SPLIT_PREFIX, load_split, split_path
from poetcore.model.modeling import TrainPreset, ensure_poem_generation_config, new_model
from poetcore.model.tokenizer import (
    FORM_NAMES,
    add_form_tokens,
    build_tokenizer,
    ci_form,
    ensure_special_tokens,
    format_body,
    format_prompt,
    load_tokenizer,
)

log = logging.getLogger(__name__)
LN2 = math.log(2.0)
MIN_CIPAI_POEMS = 20
"""A 词牌 gets a form token (and its 词 a place in training) from this many training poems up."""
MAX_CI_VALID = 500


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


def poem_form(poem: dict) -> str:
    """The form name a corpus record trains under: its 诗 form, or 词·<词牌> for a 词."""
    return ci_form(poem["cipai"]) if "cipai" in poem else poem["form"]


def encode_poems(poems: Sequence[dict], tokenizer) -> list[Encoded]:
    if not poems:
        return []
    bodies = [format_body(p["lines"], p.get("marks")) for p in poems]
    ids = tokenizer(bodies, add_special_tokens=False)["input_ids"]
    eos = tokenizer.eos_token_id
    return [
        Encoded(poem_form(p), [*i, eos], len(b) + 1, list(p.get("keywords") or []), list(p["lines"]))
        for p, i, b in zip(poems, ids, bodies, strict=True)
    ]


def ci_forms(ci_poems: Sequence[dict], min_poems: int = MIN_CIPAI_POEMS) -> list[str]:
    """The 词 forms common enough in training to get a token, most common first."""
    counts: dict[str, int] = {}
    for p in ci_poems:
        counts[p["cipai"]] = counts.get(p["cipai"], 0) + 1
    return [ci_form(c) for c, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_poems]


def usable_ci(encoded: list[Encoded], tokenizer, forms: Sequence[str], max_len: int) -> list[Encoded]:
    """词 whose 词牌 has a token, whose characters are all in the vocabulary and that fit the context."""
    known = set(forms)
    unk = tokenizer.unk_token_id
    return [ex for ex in encoded if ex.form in known and unk not in ex.body and len(ex.body) <= max_len]


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
def evaluate_bpc(
    model: PreTrainedModel, tokenizer, data: list[Encoded], batch_size: int = 128, bf16: bool = False
) -> float:
    """Bits per character of the poem body (incl. EOS) given form and the poem's own keywords."""
    model.eval()
    device = next(model.parameters()).device
    sampler = PromptSampler(tokenizer, random.Random(0))
    total_nll, total_chars = 0.0, 0
    for i in range(0, len(data), batch_size):
        chunk = data[i : i + batch_size]
        rows = [(sampler.prompt_ids(ex.form, tuple(ex.keywords)), ex.body) for ex in chunk]
        batch = {k: v.to(device) for k, v in collate(rows, tokenizer.pad_token_id).items()}
        with _autocast(device, bf16):
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

    cores = os.cpu_count() or 1
    busy = os.getloadavg()[0] > cores + 1
    want = 1 if busy else cores
    if torch.get_num_threads() != want:
        torch.set_num_threads(want)
        log.info("trainer: load %.1f, using %d thread(s)", os.getloadavg()[0], want)


def _autocast(device: torch.device, bf16: bool = True):
    """bf16 autocast around forward and loss; master weights and AdamW stay fp32."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16)


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU has native bf16 matmul (AVX-512 BF16 or AMX).

    Without it autocast emulates bf16 and a step got 14x *slower* (AVX2 Zen 3, 4x256, measured with
    benchmarks/train_precision.py); with it the same benchmark measured 1.6x (4x256) to 2.3x (6x384)
    faster. So ``precision="auto"`` asks the hardware instead of assuming.
    """
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16"))


def resolve_bf16(precision: str, device: torch.device) -> bool:
    """``auto`` means bf16 on CUDA and on CPUs with native bf16, fp32 elsewhere."""
    if precision not in ("auto", "bf16", "fp32"):
        raise ValueError(f"unknown precision {precision!r}; choose auto, bf16 or fp32")
    if precision != "auto":
        return precision == "bf16"
    return device.type == "cuda" or (device.type == "cpu" and cpu_has_fast_bf16())


def build_vocab_tokenizer(train: Sequence[dict], min_count: int = 2, forms: Sequence[str] = ()):
    texts = ("".join(p["lines"]) + "".join(p.get("keywords") or []) for p in train)
    return build_tokenizer(texts, min_count=min_count, forms=forms)


def _load_poems(data_dir: Path, max_train: int | None, max_valid: int) -> tuple[list[dict], list[dict]]:
    """Train and valid poems, capped; fail early with a hint when ``data prepare`` was never run."""
    train_poems = load_split(data_dir, "train")
    valid_poems = load_split(data_dir, "valid")
    if not train_poems or not valid_poems:
        raise ValueError(f"{data_dir} has no train/valid poems; run `poetcore data prepare` first")
    if max_train:
        train_poems = train_poems[:max_train]
    return train_poems, valid_poems[:max_valid]


def _load_ci(data_dir: Path, max_train: int | None) -> tuple[list[dict], list[dict]]:
    """The 词 splits, or nothing when the corpus was prepared without them."""
    if not split_path(data_dir, CI_SPLIT_PREFIX + "train").is_file():
        log.warning("trainer: %s has no 词 (ci_train.jsonl.gz); training on 诗 only", data_dir)
        return [], []
    train = load_split(data_dir, CI_SPLIT_PREFIX + "train")
    valid = load_split(data_dir, CI_SPLIT_PREFIX + "valid")
    if max_train:
        train = train[: max(1, max_train // 10)]
    return train, valid[:MAX_CI_VALID]


def _load_model(
    train_poems: Sequence[dict],
    preset: TrainPreset,
    ckpt_dir: Path,
    *,
    init_from: Path | None,
    resume: bool,
    seed: int,
    forms: Sequence[str] = (),
    ci_poems: Sequence[dict] = (),
) -> tuple[Any, Any, TrainState]:
    """Tokenizer, model and trainer state: resumed checkpoint, else ``init_from``, else fresh.

    Resume wins over ``init_from`` so a restarted fine-tune picks up where it stopped. ``forms``
    (词·<词牌>) become tokens; a model that lacks them grows its embeddings (new rows start at the
    mean of the old ones, HF's default).
    """
    tokenizer: Any
    model: Any
    if resume and (ckpt_dir / "trainer_state.json").exists():
        tokenizer = load_tokenizer(ckpt_dir)
        model = AutoModelForCausalLM.from_pretrained(ckpt_dir, local_files_only=True)
        raw = json.loads((ckpt_dir / "trainer_state.json").read_text())
        state = TrainState(**raw)
        log.info("trainer: resuming from %s at step %d", ckpt_dir, state.step)
        return tokenizer, model, state
    if init_from is not None:
        tokenizer = load_tokenizer(init_from)
        model = AutoModelForCausalLM.from_pretrained(init_from, local_files_only=True)
        if ensure_special_tokens(tokenizer) + add_form_tokens(tokenizer, forms):
            model.resize_token_embeddings(len(tokenizer))
        ensure_poem_generation_config(model, tokenizer)  # a foreign or older model: our decoding defaults
        log.info("trainer: fine-tuning %s (%d tokens in vocab)", init_from, len(tokenizer))
        return tokenizer, model, TrainState()
    tokenizer = build_vocab_tokenizer([*train_poems, *ci_poems], forms=forms)
    return tokenizer, new_model(preset.size, tokenizer, seed=seed), TrainState()


def _build_optimizer(model: Any, preset: TrainPreset, lr: float, dev: torch.device) -> torch.optim.AdamW:
    """AdamW, weight decay on matrices only (norms and biases stay undecayed, the usual recipe)."""
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": preset.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.95),
        fused=dev.type == "cuda",
    )


def _lr_factor_fn(
    preset: TrainPreset, steps: int, minutes: float | None, started: float
) -> Callable[[int], float]:
    """The LR multiplier per step, as a plain function.

    A function, not a callable object: LambdaLR pickles the ``__dict__`` of callable objects into its
    state_dict, which would change what ``optimizer.pt`` holds.
    """

    def lr_factor(step: int) -> float:
        # Warm-up, then cosine decay over whichever budget runs out first (steps or wall clock), so a
        # run capped by --max-minutes still ends with a small learning rate instead of mid-schedule.
        if step < preset.warmup_steps:
            return (step + 1) / preset.warmup_steps
        progress = (step - preset.warmup_steps) / max(1, steps - preset.warmup_steps)
        if minutes is not None:
            progress = max(progress, (time.monotonic() - started) / (minutes * 60))
        return max(0.02, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))

    return lr_factor


def _restore_optimizer(
    ckpt_dir: Path,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LambdaLR,
    rng: random.Random,
    dev: torch.device,
) -> None:
    """Reload optimizer, schedule and Python RNG so a resumed run continues the same trajectory."""
    opt_state = torch.load(ckpt_dir / "optimizer.pt", map_location=dev, weights_only=False)
    opt.load_state_dict(opt_state["optimizer"])
    sched.load_state_dict(opt_state["scheduler"])
    rng.setstate(opt_state["py_rng"])


def _progress_bar(show_progress: bool) -> Progress:
    return Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f} bpc {task.fields[bpc]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not show_progress,
    )


@dataclass(eq=False, kw_only=True)
class _Session:
    """One training run's mutable pieces, so the loop, eval and checkpointing can be separate methods."""

    model: Any
    tokenizer: Any
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LambdaLR
    rng: random.Random
    state: TrainState
    preset: TrainPreset
    dev: torch.device
    bf16: bool
    out_dir: Path
    train_data: list[Encoded]
    valid_data: list[Encoded]
    valid_ci: list[Encoded]
    steps: int
    minutes: float | None
    started: float  # monotonic clock at step 0, so resumed runs keep their elapsed time
    sampler: PromptSampler = field(init=False)
    running: float = field(default=0.0, init=False)  # summed train loss since the last eval
    count: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.sampler = PromptSampler(self.tokenizer, self.rng)

    @property
    def ckpt_dir(self) -> Path:
        return self.out_dir / "checkpoint"

    @property
    def metrics_path(self) -> Path:
        return self.out_dir / "metrics.jsonl"

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def save_checkpoint(self) -> None:
        """Everything ``resume`` needs: model, tokenizer, optimizer/scheduler/RNG and trainer state."""
        ckpt_dir = self.ckpt_dir
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(ckpt_dir)
        self.tokenizer.save_pretrained(ckpt_dir)
        payload = {
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "py_rng": self.rng.getstate(),
        }
        torch.save(payload, ckpt_dir / "optimizer.pt")
        (ckpt_dir / "trainer_state.json").write_text(json.dumps(asdict(self.state)))

    def run_eval(self) -> float:
        """Valid bpc, logged to metrics.jsonl; a new best goes to ``final/``; then checkpoint."""
        state = self.state
        bpc = evaluate_bpc(self.model, self.tokenizer, self.valid_data, bf16=self.bf16)
        record = {
            "step": state.step,
            "epoch": state.epoch,
            "train_loss": self.running / max(1, self.count),
            "valid_bpc": bpc,  # 诗 only: the model of record is chosen on the fixed 诗 validation set
            "lr": float(self.sched.get_last_lr()[0]),
            "elapsed_s": self.elapsed(),
        }
        if self.valid_ci:
            record["valid_ci_bpc"] = evaluate_bpc(self.model, self.tokenizer, self.valid_ci, bf16=self.bf16)
        state.history.append(record)
        with self.metrics_path.open("a") as f:
            f.write(json.dumps(record) + "\n")
        if bpc < state.best_bpc:
            state.best_bpc = bpc
            self.model.save_pretrained(self.out_dir / "final")
            self.tokenizer.save_pretrained(self.out_dir / "final")
        state.elapsed_s = self.elapsed()
        self.save_checkpoint()
        log.info("trainer: step %d valid bpc %.4f (best %.4f)", state.step, bpc, state.best_bpc)
        return bpc

    def train_step(self, chunk: list[Encoded]) -> float:
        """One optimizer step on one batch; returns its loss."""
        rows = [(self.sampler.prompt_ids(ex.form, self.sampler.keywords(ex)), ex.body) for ex in chunk]
        batch = {k: v.to(self.dev) for k, v in collate(rows, self.tokenizer.pad_token_id).items()}
        with _autocast(self.dev, self.bf16):
            loss = self.model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.preset.grad_clip)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        return float(loss.detach())

    def after_step(self, loss: float, progress: Progress, task: TaskID) -> None:
        """Per-step bookkeeping: running loss, progress bar, thread count, periodic log and eval."""
        state = self.state
        state.step += 1
        self.running += loss
        self.count += 1
        progress.update(task, completed=state.step, loss=self.running / self.count)
        if self.dev.type == "cpu" and state.step % 20 == 0:
            _adapt_threads()
        if state.step % 50 == 0:
            log.info(
                "trainer: step %d loss %.4f lr %.2e elapsed %.1f min",
                state.step, self.running / self.count, self.sched.get_last_lr()[0], self.elapsed() / 60,
            )
        if state.step % self.preset.eval_every == 0 or state.step >= self.steps:
            bpc = self.run_eval()
            progress.update(task, bpc=f"{bpc:.3f}")
            self.running, self.count = 0.0, 0

    def run_epoch(self, progress: Progress, task: TaskID) -> str | None:
        """One pass over the shuffled batches; the stop reason if a budget ran out, else None."""
        for chunk in batches(self.train_data, self.preset.batch_size, self.rng):
            self.after_step(self.train_step(chunk), progress, task)
            if self.minutes is not None and self.elapsed() > self.minutes * 60:
                return "max_minutes"
            if self.state.step >= self.steps:
                return "max_steps"
        return None

    def fit(self, show_progress: bool) -> str:
        """Train until the step or wall-clock budget runs out, then make sure the last step is evaluated."""
        self.model.train()
        stop_reason = "max_steps"
        with _progress_bar(show_progress) as progress:
            task = progress.add_task(
                "train", total=self.steps, completed=self.state.step, loss=float("nan"), bpc="-"
            )
            while self.state.step < self.steps:
                reason = self.run_epoch(progress, task)
                if reason is not None:
                    stop_reason = reason
                    break
                self.state.epoch += 1
        if not self.state.history or self.state.history[-1]["step"] != self.state.step:
            self.run_eval()
        return stop_reason


def _summary(
    session: _Session, n_params: int, stop_reason: str, init_from: Path | None, lr: float
) -> dict[str, object]:
    """What ``summary.json`` records about a finished run (also ``train()``'s return value)."""
    state, preset = session.state, session.preset
    return {
        "preset": preset.name,
        "steps": state.step,
        "epochs": state.step * preset.batch_size / max(1, len(session.train_data)),
        "best_valid_bpc": state.best_bpc,
        "train_minutes": session.elapsed() / 60,
        "parameters": n_params,
        "vocab_size": len(session.tokenizer),
        "device": str(session.dev),
        "train_poems": len(session.train_data),
        "train_ci": sum(ex.form not in FORM_NAMES for ex in session.train_data),
        "valid_poems": len(session.valid_data),
        "valid_ci": len(session.valid_ci),
        "stop_reason": stop_reason,
        "init_from": str(init_from) if init_from else None,
        "precision": "bf16-autocast" if session.bf16 else "fp32",
        "lr": lr,
    }


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
    lr: float | None = None,
    precision: str = "auto",
    ci: bool = True,
    show_progress: bool = True,
) -> dict[str, object]:
    """Train (or fine-tune) a model and save the best checkpoint to ``out_dir/final``.

    With ``ci`` the 宋词 of the prepared corpus train alongside the 诗 under their 词牌 tokens; the
    best checkpoint is still chosen on 诗 validation bpc, and 词 bpc is logged beside it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    bf16 = resolve_bf16(precision, dev)
    rng = random.Random(seed)
    torch.manual_seed(seed)
    train_poems, valid_poems = _load_poems(data_dir, max_train, max_valid)
    ci_train, ci_valid = _load_ci(data_dir, max_train) if ci else ([], [])
    forms = ci_forms(ci_train)

    ckpt_dir = out_dir / "checkpoint"
    tokenizer, model, state = _load_model(
        train_poems, preset, ckpt_dir, init_from=init_from, resume=resume, seed=seed, forms=forms, ci_poems=ci_train
    )
    model.to(dev)
    n_params = sum(p.numel() for p in model.parameters())
    log.info("trainer: %d parameters, vocab %d, device %s", n_params, len(tokenizer), dev)

    train_data = encode_poems(train_poems, tokenizer)
    valid_data = encode_poems(valid_poems, tokenizer)
    max_len = int(getattr(model.config, "max_position_embeddings", 256)) - 12  # room for the prompt
    train_data += usable_ci(encode_poems(ci_train, tokenizer), tokenizer, forms, max_len)
    valid_ci = usable_ci(encode_poems(ci_valid, tokenizer), tokenizer, forms, max_len)
    if ci_train:
        log.info("trainer: %d 词 in training (%d 词牌), %d in validation", len(train_data) - len(train_poems),
                 len(forms), len(valid_ci))
    steps = max_steps or preset.max_steps
    minutes = max_minutes if max_minutes is not None else preset.max_minutes

    opt = _build_optimizer(model, preset, lr or preset.lr, dev)
    started = time.monotonic() - state.elapsed_s
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_factor_fn(preset, steps, minutes, started))
    if resume and (ckpt_dir / "optimizer.pt").exists():
        _restore_optimizer(ckpt_dir, opt, sched, rng, dev)

    session = _Session(
        model=model, tokenizer=tokenizer, opt=opt, sched=sched, rng=rng, state=state, preset=preset,
        dev=dev, bf16=bf16, out_dir=out_dir, train_data=train_data, valid_data=valid_data, valid_ci=valid_ci,
        steps=steps, minutes=minutes, started=started,
    )
    stop_reason = session.fit(show_progress)
    summary = _summary(session, n_params, stop_reason, init_from, lr or preset.lr)
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    return summary
