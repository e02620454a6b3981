"""Poems/s and latency of the naive path vs the batched worker path, side by side, on one device.

Prepared to run on one GPU in under 5 minutes (``--budget-s`` caps each case)::

    python benchmarks/gpu_bench.py                       # cuda when visible, else cpu
    python benchmarks/gpu_bench.py --device cpu --batches 1,8 --budget-s 10     # a quick CPU look

- naive: one request per ``generate()`` call, requests one after another (what a worker with
  ``max_batch=1`` does);
- batched: ``k`` requests per ``compose_batch`` call (a worker with ``max_batch=k`` that found k
  jobs waiting), for each k in ``--batches``; latency is the whole call (every request in it waits
  for it), poems/s counts every poem of the call.

Each case runs with ``n`` candidates per poem for each ``--candidates`` value (the shipped default
is 8; n=1 is the raw form-constrained sampler). Prints one table and, with ``--json``, the rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from poetcore.compose import Composer
from poetcore.request import ComposeRequest

TOPICS = ("秋月", "春雨", "送别", "边塞", "思乡", "怀古", "梅花", "江南", "夜泊", "登高", "落日", "清明")


def run_case(composer: Composer, batch: int, candidates: int, budget_s: float, device: torch.device) -> dict[str, float]:
    latencies: list[float] = []
    poems = 0
    started = time.perf_counter()
    seed = 0
    while time.perf_counter() - started < budget_s or len(latencies) < 3:
        reqs = [ComposeRequest(TOPICS[(seed + i) % len(TOPICS)], "七绝", n=candidates, seed=seed + i)
                for i in range(batch)]
        seed += batch
        t0 = time.perf_counter()
        results = composer.compose_batch(reqs)
        if device.type == "cuda":
            torch.cuda.synchronize()
        latencies.append(time.perf_counter() - t0)
        poems += sum(not isinstance(r, Exception) for r in results)
    total = sum(latencies)
    latencies.sort()
    return {"batch": batch, "candidates": candidates, "calls": len(latencies), "poems_per_s": poems / total,
            "p50_ms": statistics.median(latencies) * 1000,
            "p95_ms": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--model", default=None)
    parser.add_argument("--batches", default="1,8,64,256,512", help="requests per generate(); 1 is the naive path")
    parser.add_argument("--candidates", default="1,8")
    parser.add_argument("--budget-s", type=float, default=12.0, help="seconds per case (at least 3 calls)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    device = torch.device(args.device)
    t0 = time.perf_counter()
    composer = Composer.from_pretrained(args.model, device=args.device)
    load_s = time.perf_counter() - t0
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    composer.compose("秋月", n=8, seed=0)  # warm-up: kernels, caches
    rows = []
    for candidates in (int(c) for c in args.candidates.split(",")):
        naive = None
        for batch in (int(b) for b in args.batches.split(",")):
            row = run_case(composer, batch, candidates, args.budget_s, device)
            naive = naive or row["poems_per_s"]
            row["vs_naive"] = row["poems_per_s"] / naive
            rows.append(row)
            print(f"  n={candidates} batch={batch}: {row['poems_per_s']:.1f} poems/s", flush=True)
    print(f"\n{name}, model load {load_s:.1f} s, 七绝")
    print(f"{'n':>3} {'batch':>6} {'calls':>6} {'poems/s':>10} {'p50 ms':>9} {'p95 ms':>9} {'x naive':>8}")
    for r in rows:
        print(f"{r['candidates']:>3} {r['batch']:>6} {r['calls']:>6} {r['poems_per_s']:>10.1f} {r['p50_ms']:>9.1f} "
              f"{r['p95_ms']:>9.1f} {r['vs_naive']:>7.1f}x")
    if args.json:
        print(json.dumps({"device": name, "load_s": load_s, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
