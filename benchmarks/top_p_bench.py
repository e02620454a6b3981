"""HF's temperature + top-p warpers vs poetcore.decoding.sampling.TemperatureTopP, side by side in one run.

Usage::

    python benchmarks/top_p_bench.py            # rows 1, 8, 64 over the shipped vocabulary, 60% masked

Both see the same masked scores (a constraint mask leaves part of the vocabulary); quote the ratio.
"""

from __future__ import annotations

import argparse
import time

import torch
from transformers import LogitsProcessorList, TemperatureLogitsWarper, TopPLogitsWarper

from poetcore.decoding.sampling import TemperatureTopP
from poetcore.model.modeling import default_model_dir
from poetcore.model.tokenizer import load_tokenizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1,8,64")
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    vocab = len(load_tokenizer(default_model_dir()))
    gen = torch.Generator().manual_seed(0)
    print(f"vocabulary {vocab}, threads {torch.get_num_threads()}; ms per call (t 0.75, top-p 0.95)")
    for rows in (int(r) for r in args.rows.split(",")):
        scores = torch.randn(rows, vocab, generator=gen) * 3
        scores[torch.rand(rows, vocab, generator=gen) < 0.6] = float("-inf")
        ids = torch.zeros(rows, 1, dtype=torch.long)
        sides = {"hf": LogitsProcessorList([TemperatureLogitsWarper(0.75), TopPLogitsWarper(0.95, 2)]),
                 "ours": TemperatureTopP(0.75, 0.95, 2)}
        took = {name: 0.0 for name in sides}
        for _ in range(args.repeats):  # interleaved: noise hits both alike
            for name, warp in sides.items():
                t = time.perf_counter()
                warp(ids, scores)
                took[name] += time.perf_counter() - t
        hf, ours = (took[n] / args.repeats * 1000 for n in ("hf", "ours"))
        print(f"rows {rows:>3}: hf {hf:6.2f} ms, ours {ours:6.2f} ms, {hf / ours:4.1f}x")


if __name__ == "__main__":
    main()
