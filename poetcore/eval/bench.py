"""`poetcore bench`: latency and throughput of composing 七绝 (and of a short and a long 词), plus the
cost of the constraints.

Benchmarks print numbers; tests never assert on them (speed depends on the machine).
"""

from __future__ import annotations

import copy
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from rich.table import Table
from transformers import LogitsProcessorList

from poetcore.compose import Composer
from poetcore.decoding.processor import PoemConstraintLogitsProcessor
from poetcore.decoding.spec import PoemSpec
from poetcore.model.tokenizer import format_prompt
from poetcore.prosody.forms import get_form
from poetcore.request import ComposeRequest

CI_LATENCY = ("浣溪沙", "水调歌头")
"""The 词牌 whose latency the bench reports: a short and a long one."""


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def constraint_overhead(composer: Composer, batch: int = 8, repeats: int = 5) -> dict[str, float]:
    """Seconds per generate() with and without the 格律 processor, same shapes and token count."""
    form = get_form("七绝")
    enc = composer.tokenizer([format_prompt("七绝", ["秋月"])] * batch, return_tensors="pt", add_special_tokens=False)
    ids = enc["input_ids"].to(composer.device)
    steps = sum(form.line_lengths) + form.n_lines + 1
    configs = {}
    for name in ("unconstrained", "constrained"):
        config = copy.deepcopy(composer.generation_config)  # HF wants one config, not config + kwargs
        config.update(num_beams=1,  # the processor's cost per sampled row, whatever the shipped decoding
                      max_new_tokens=steps, pad_token_id=composer.masks.pad_id, eos_token_id=composer.masks.eos_id)
        if name == "unconstrained":
            config.update(min_new_tokens=steps)  # the same token count as a constrained poem
        configs[name] = config
    common = dict(input_ids=ids, attention_mask=enc["attention_mask"].to(composer.device))
    times: dict[str, list[float]] = {"unconstrained": [], "constrained": []}
    with torch.no_grad():
        for i in range(repeats + 1):
            for name in times:
                kwargs = dict(common, generation_config=configs[name])
                if name == "constrained":
                    proc = PoemConstraintLogitsProcessor([PoemSpec(form, topic="秋月")] * batch, composer.masks, ids.shape[1])
                    kwargs["logits_processor"] = LogitsProcessorList([proc])
                torch.manual_seed(i)
                _sync(composer.device)
                t = time.perf_counter()
                composer.model.generate(**kwargs)
                _sync(composer.device)
                if i:  # first round is warm-up
                    times[name].append(time.perf_counter() - t)
    u, c = statistics.median(times["unconstrained"]), statistics.median(times["constrained"])
    return {"unconstrained_s": u, "constrained_s": c, "overhead": c / u - 1.0, "batch": batch}


def run_bench(
    repeats: int = 20,
    device: str | None = None,
    model: Path | None = None,
    batch_sizes: list[int] | None = None,
) -> dict[str, Any]:
    t = time.perf_counter()
    composer = Composer.from_pretrained(model, device=device)
    load_s = time.perf_counter() - t
    dev = composer.device
    composer.compose("秋月", "七绝", seed=0)  # warm-up
    latency: dict[str, dict[str, float]] = {}
    for n in (1, composer.default_candidates):
        xs = []
        for i in range(repeats):
            _sync(dev)
            t = time.perf_counter()
            composer.compose("秋月", "七绝", n=n, seed=i)
            _sync(dev)
            xs.append(time.perf_counter() - t)
        latency[f"n={n}"] = {"p50_ms": 1000 * _pct(xs, 0.5), "p95_ms": 1000 * _pct(xs, 0.95)}
    # A 词 is longer and its chart wider: one short (浣溪沙, 42 characters) and one long (水调歌头, 95),
    # with the model's own candidates, as `/ci` serves them.
    for cipai in CI_LATENCY:
        composer.compose("秋思", cipai, seed=0)  # warm-up: the 词牌's plan and masks
        xs = []
        for i in range(max(1, repeats // 4)):
            _sync(dev)
            t = time.perf_counter()
            composer.compose("秋思", cipai, seed=i)
            _sync(dev)
            xs.append(time.perf_counter() - t)
        latency[f"{cipai} n={composer.default_candidates}"] = {"p50_ms": 1000 * _pct(xs, 0.5),
                                                                "p95_ms": 1000 * _pct(xs, 0.95)}
    throughput: dict[str, float] = {}
    for b in batch_sizes or [1, 16, 64]:
        reqs = [ComposeRequest("秋月", "七绝", n=1, seed=k) for k in range(b)]
        rounds = max(1, min(5, repeats, 64 // b))
        _sync(dev)
        t = time.perf_counter()
        for _ in range(rounds):
            composer.compose_batch(reqs)
        _sync(dev)
        throughput[f"batch={b}"] = b * rounds / (time.perf_counter() - t)
    # What a busy worker delivers with the shipped decoding: a batch of 8 requests, each reranking
    # the model's default candidate count (critic included when the model ships one).
    reqs = [ComposeRequest("秋月", "七绝", seed=k) for k in range(8)]
    _sync(dev)
    t = time.perf_counter()
    composer.compose_batch(reqs)
    _sync(dev)
    throughput[f"batch=8 n={composer.default_candidates}"] = 8 / (time.perf_counter() - t)
    return {
        "device": str(dev) if dev.type == "cpu" else torch.cuda.get_device_name(dev),
        "threads": torch.get_num_threads(),
        "critic": composer.critic is not None and bool(composer.critic_weight),
        "load_s": load_s,
        "latency": latency,
        "throughput_poems_per_s": throughput,
        "constraint_overhead": constraint_overhead(composer, repeats=max(1, min(5, repeats))),
    }


def bench_table(result: dict[str, Any]) -> Table:
    table = Table("measure", "value", title=f"poetcore bench on {result['device']} ({result['threads']} threads)")
    table.add_row("model load", f"{result['load_s']:.2f} s")
    table.add_row("critic in the rerank", "yes" if result["critic"] else "no")
    for k, v in result["latency"].items():
        name = k if k.split()[0] in CI_LATENCY else f"七绝 {k}"
        table.add_row(f"{name} latency", f"p50 {v['p50_ms']:.0f} ms · p95 {v['p95_ms']:.0f} ms")
    for k, v in result["throughput_poems_per_s"].items():
        table.add_row(f"throughput {k}", f"{v:.2f} poems/s")
    o = result["constraint_overhead"]
    table.add_row(
        "constraint overhead",
        f"{100 * o['overhead']:+.1f}% ({o['constrained_s'] * 1000:.0f} vs {o['unconstrained_s'] * 1000:.0f} ms, batch {o['batch']})",
    )
    return table
