"""Preference training of the generator (DPO) on pairs the corpus supplies: real poem chosen, ours rejected.

Why DPO: it is the stable working form of the adversarial training the early poetry-GAN work aimed at.
The generator is pushed away from what it writes and toward what poets wrote for the same prompt, with
no reward model to game and no sampling in the loop (Rafailov et al., 2023, "Direct Preference
Optimization"). A frozen copy of the starting model is the reference; an NLL term on the chosen poem
(as in RPO, Pang et al., 2024) keeps the likelihood of real poems, so validation bpc is watched, not
sacrificed. The constraints stay in the decoder, so form, tone and rhyme stay guaranteed.

Pairs come from `poetcore.tuning.critic_train` (``pairs.jsonl.gz`` beside a critic): each poem of ours
was composed for the prompt of one real poem (its form and first keyword), which is the chosen side.
"""

from __future__ import annotations

import copy
import json
import logging
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

from poetcore.data.corpus import load_split
from poetcore.model.card import CARD_EXTRA_FILE
from poetcore.model.tokenizer import format_body, format_prompt, load_tokenizer
from poetcore.model.train import collate, encode_poems, evaluate_bpc, resolve_bf16
from poetcore.request import topic_keywords
from poetcore.tuning.critic_train import CriticExample

log = logging.getLogger(__name__)


@dataclass
class PreferenceReport:
    init_from: str
    pairs: int
    steps: int
    beta: float
    nll_weight: float
    lr: float
    valid_bpc_before: float
    valid_bpc_after: float
    seconds: float
    history: list[dict[str, float]] = field(default_factory=list)


def _ids(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    return tokenizer(list(texts), add_special_tokens=False)["input_ids"]


def encode_pairs(tokenizer, pairs: Sequence[CriticExample]) -> list[tuple[list[int], list[int], list[int]]]:
    """(prompt, chosen body, rejected body) token ids; bodies end with EOS, as in training."""
    usable = [p for p in pairs if p.pair and p.label == 0]
    prompts = _ids(tokenizer, [format_prompt(p.form, topic_keywords(p.topic)) for p in usable])
    chosen = _ids(tokenizer, [format_body(p.pair or []) for p in usable])
    rejected = _ids(tokenizer, [format_body(p.lines) for p in usable])
    eos = tokenizer.eos_token_id
    unk = tokenizer.unk_token_id
    return [(pr, [*c, eos], [*r, eos]) for pr, c, r in zip(prompts, chosen, rejected, strict=True)
            if unk not in c and unk not in r]


def _body_logps(model, rows: list[tuple[list[int], list[int]]], pad_id: int, bf16: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed log-prob of each body, and its token count."""
    batch = collate(rows, pad_id)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    tgt = batch["labels"][:, 1:]
    mask = tgt != -100
    tok = logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1) * mask
    return tok.sum(-1), mask.sum(-1)


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The DPO loss per pair, and whether the policy's implicit reward ranks the pair right."""
    margin = beta * ((policy_chosen - ref_chosen) - (policy_rejected - ref_rejected))
    return -F.logsigmoid(margin), (margin > 0).float()


def train_preference(init_from: Path, pairs: Sequence[CriticExample], data_dir: Path, out_dir: Path, *,
                     beta: float = 0.1, nll_weight: float = 1.0, lr: float = 2e-5, batch_size: int = 32,
                     epochs: int = 1, seed: int = 0, precision: str = "auto", max_valid: int = 3000,
                     progress: Callable[[int], None] | None = None) -> PreferenceReport:
    """DPO (+ NLL on the chosen poem) from the LM in ``init_from``; the result is saved under
    ``out_dir/final`` with the starting model's generation config, ready for ``poetcore ship``."""
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = load_tokenizer(init_from)
    policy = AutoModelForCausalLM.from_pretrained(init_from, local_files_only=True)
    reference = copy.deepcopy(policy).eval()
    for p in reference.parameters():
        p.requires_grad_(False)
    bf16 = resolve_bf16(precision, torch.device("cpu"))
    valid = encode_poems(load_split(data_dir, "valid")[:max_valid], tokenizer)
    before = evaluate_bpc(policy, tokenizer, valid)
    data = encode_pairs(tokenizer, pairs)
    optim = torch.optim.AdamW(policy.parameters(), lr=lr, weight_decay=0.0)
    pad = tokenizer.pad_token_id
    history: list[dict[str, float]] = []
    step = 0
    policy.train()
    for _ in range(epochs):
        rng.shuffle(data)
        for start in range(0, len(data), batch_size):
            chunk = data[start : start + batch_size]
            rows = [(p, c) for p, c, _ in chunk] + [(p, r) for p, _, r in chunk]
            with torch.no_grad():
                ref, _ = _body_logps(reference, rows, pad, bf16)
            pol, count = _body_logps(policy, rows, pad, bf16)
            k = len(chunk)
            loss, right = dpo_loss(pol[:k], pol[k:], ref[:k], ref[k:], beta)
            nll = -(pol[:k] / count[:k]).mean()
            total = loss.mean() + nll_weight * nll
            optim.zero_grad()
            total.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            optim.step()
            step += 1
            history.append({"step": step, "dpo_loss": float(loss.mean().detach()), "nll": float(nll.detach()),
                            "pair_accuracy": float(right.mean())})
            if progress is not None:
                progress(k)
    after = evaluate_bpc(policy, tokenizer, valid)
    final = out_dir / "final"
    policy.save_pretrained(final)
    tokenizer.save_pretrained(final)
    if (init_from / "generation_config.json").is_file():
        shutil.copy2(init_from / "generation_config.json", final / "generation_config.json")
    report = PreferenceReport(str(init_from), len(data), step, beta, nll_weight, lr, before, after,
                              time.perf_counter() - t0, history)
    (out_dir / "preference_summary.json").write_text(json.dumps(asdict(report), indent=1), encoding="utf-8")
    _write_ship_files(init_from, out_dir, report)
    log.info("preference: %d pairs, %d steps, valid bpc %.4f -> %.4f", len(data), step, before, after)
    return report


def _write_ship_files(init_from: Path, out_dir: Path, report: PreferenceReport) -> None:
    """What ``poetcore ship`` reads for the model card: the parent's summary with this run's bpc, its
    training history (the lineage), its 3-gram baseline (same valid poems), and the DPO run's lines."""
    parent_path = init_from / "training_summary.json"
    parent = json.loads(parent_path.read_text(encoding="utf-8")) if parent_path.is_file() else {}
    summary = {**parent.get("summary", {}), "best_valid_bpc": report.valid_bpc_after, "init_from": str(init_from),
               "stop_reason": f"preference training: {report.steps} DPO steps after the parent's training"}
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (out_dir / "metrics.jsonl").write_text("".join(json.dumps(h) + "\n" for h in parent.get("history", [])),
                                           encoding="utf-8")
    if parent.get("baseline"):
        (out_dir / "baseline.json").write_text(json.dumps(parent["baseline"], indent=1), encoding="utf-8")
    extra = {"Preference training": (
        f"DPO (beta {report.beta}, plus {report.nll_weight} x NLL on the real poem, lr {report.lr}, "
        f"{report.steps} steps over {report.pairs} pairs: a real poem chosen over ours for the same prompt) from "
        f"{init_from}; valid bpc {report.valid_bpc_before:.3f} -> {report.valid_bpc_after:.3f}. The training "
        "table above is the parent's")}
    (out_dir / CARD_EXTRA_FILE).write_text(json.dumps(extra, ensure_ascii=False, indent=1), encoding="utf-8")


__all__ = ["PreferenceReport", "dpo_loss", "encode_pairs", "train_preference"]
